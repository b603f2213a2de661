/**
 * A tiny model for the demo: y = W·x + b with its weights in a checkpoint package
 * (config.json + weights.bin as float32). It shows how a model author uses AutoModel:
 * a default package that downloads nothing until loadModel resolves its files.
 */
import { readFile } from "node:fs/promises";
import { AutoModel, Package } from "../../src/index.js";

export interface TinyConfig {
  inputs: number;
  outputs: number;
}

export class TinyModel extends AutoModel {
  /** Where the published checkpoint lives (the demo points it at its local server). */
  static defaultRoot = "https://models.example.org/tiny-model/v1";

  constructor(
    readonly config: TinyConfig,
    readonly weights: Float32Array,
    readonly bias: Float32Array,
  ) {
    super();
  }

  static override loadDefaultPackage(): Package {
    // Each model caches in a folder of its own, under readable names.
    return new Package(TinyModel.defaultRoot, { cacheOptions: { cacheStorage: Package.defaultCache("tiny-model"), sameNames: true } });
  }

  static override async loadModel(pkg: Package): Promise<TinyModel> {
    const config = JSON.parse(await readFile(await pkg.resolve("config.json"), "utf8")) as TinyConfig;
    const raw = await readFile(await pkg.resolve("weights.bin"));
    const floats = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    const w = config.inputs * config.outputs;
    if (floats.length !== w + config.outputs) throw new Error(`weights.bin holds ${floats.length} floats, expected ${w + config.outputs}`);
    return new TinyModel(config, floats.slice(0, w), floats.slice(w));
  }

  predict(x: readonly number[]): number[] {
    const { inputs, outputs } = this.config;
    return Array.from({ length: outputs }, (_, o) => {
      let sum = this.bias[o]!;
      for (let i = 0; i < inputs; i++) sum += this.weights[o * inputs + i]! * x[i]!;
      return sum;
    });
  }
}
