// Counts the words of a text file: `npx weir run examples/wordcount.ts -w 2`.
import { fileURLToPath } from "node:url";
import { Dataflow, op } from "weir";
import { FileSource } from "weir/connectors/files";
import { StdOutSink } from "weir/connectors/stdio";

const text = fileURLToPath(new URL("./wordcount.txt", import.meta.url));

export const flow = new Dataflow("wordcount");
const lines = op.input("lines", flow, new FileSource(text));
const words = op.flatMap("split", lines, (line: string) => line.toLowerCase().match(/[a-z']+/g) ?? []);
const counts = op.countFinal("count", words, (word: string) => word);
const formatted = op.map("format", counts, ([word, n]: [string, number]) => `${word}: ${n}`);
op.output("print", formatted, new StdOutSink());
