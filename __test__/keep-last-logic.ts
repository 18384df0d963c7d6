// Bytewax's KeepLastLogic, shared by the stateful-operator and recovery ports.
import { StatefulLogic, type LogicResult } from "../src/index.js";

/** Emits `[previous, value]` per item, discarding the key when the value is "DISCARD"; its state is the last value. */
export class KeepLastLogic extends StatefulLogic<string, [string | undefined, string], string | undefined> {
  constructor(private state: string | undefined) {
    super();
  }

  onItem(value: string): LogicResult<[string | undefined, string]> {
    const old = this.state;
    this.state = value;
    return [[[old, value]], value === "DISCARD"];
  }

  snapshot(): string | undefined {
    return this.state;
  }
}
