// Stops a test broker whose starter died without stopping it (a crashed or killed test run), so no JVM is left
// holding ports and memory. broker.mjs starts this detached: `node orphan-guard.mjs <ownerPid> <brokerPid>`.
// It exits as soon as the broker is gone.
const [ownerPid, brokerPid] = process.argv.slice(2).map(Number);
const POLL_MS = 500;
const GRACE_MS = 15_000;

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function send(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {
    // gone already
  }
}

const timer = setInterval(() => {
  if (!alive(brokerPid)) process.exit(0);
  if (alive(ownerPid)) return;
  clearInterval(timer);
  send(brokerPid, "SIGTERM");
  const deadline = Date.now() + GRACE_MS;
  setInterval(() => {
    if (!alive(brokerPid)) process.exit(0);
    if (Date.now() > deadline) {
      send(brokerPid, "SIGKILL");
      process.exit(0);
    }
  }, 100);
}, POLL_MS);
