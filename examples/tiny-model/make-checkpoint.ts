/**
 * Writes a TinyModel checkpoint: `tsx examples/tiny-model/make-checkpoint.ts <dir> [inputs] [outputs]`.
 * Weights are a fixed pattern so every run produces the same bytes.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export async function makeCheckpoint(dir: string, inputs = 1024, outputs = 1024): Promise<{ files: string[]; bytes: number }> {
  await mkdir(dir, { recursive: true });
  const weights = new Float32Array(inputs * outputs + outputs);
  for (let o = 0; o < outputs; o++) {
    for (let i = 0; i < inputs; i++) weights[o * inputs + i] = o === i ? 1 : 0; // identity
    weights[inputs * outputs + o] = 0.5; // bias
  }
  const bytes = Buffer.from(weights.buffer);
  await writeFile(join(dir, "config.json"), JSON.stringify({ inputs, outputs }));
  await writeFile(join(dir, "weights.bin"), bytes);
  return { files: ["config.json", "weights.bin"], bytes: bytes.byteLength };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [dir, inputs, outputs] = process.argv.slice(2);
  if (!dir) {
    console.error("usage: make-checkpoint.ts <dir> [inputs] [outputs]");
    process.exit(2);
  }
  const out = await makeCheckpoint(dir, Number(inputs ?? 1024), Number(outputs ?? 1024));
  console.log(`wrote ${out.files.join(", ")} (${out.bytes} bytes of weights) to ${dir}`);
}
