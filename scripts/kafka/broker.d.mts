// Types of broker.mjs, for TypeScript tests that import it.

/** Options of {@link startBroker}. */
export interface StartBrokerOptions {
  /** Keep the broker's data here (formatted on first use, reused later); default: a temporary dir deleted by stop(). */
  dataDir?: string;
  /** Client port on 127.0.0.1; default: a free one. */
  port?: number;
  /** KRaft controller port on 127.0.0.1; default: a free one. */
  controllerPort?: number;
  /** How long to wait for the broker to report STARTED (default 90 s). */
  startTimeoutMs?: number;
  /** Stop the broker if this process dies without calling stop() (default true). */
  killWithParent?: boolean;
}

/** A running broker. */
export interface RunningBroker {
  /** Bootstrap servers, e.g. ["127.0.0.1:40123"]. */
  brokers: string[];
  /** The broker JVM's pid. */
  pid: number;
  dataDir: string;
  /** The broker's log file. */
  logFile: string;
  /** Stops the broker (SIGTERM, then SIGKILL after 15 s) and deletes a temporary data dir. */
  stop(): Promise<void>;
}

export function startBroker(opts?: StartBrokerOptions): Promise<RunningBroker>;
export function stopBrokerByPid(pid: number, graceMs?: number): Promise<void>;
export function ensureJars(): void;
