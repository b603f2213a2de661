/**
 * AutoModelMixin: what a model class provides so users can write `MyModel.fromPretrained()`.
 * The class says where its default checkpoint lives (`loadDefaultPackage`, downloads nothing)
 * and how to build itself from a package (`loadModel`, which resolves files lazily).
 */
import { FsError } from "../core/errors.js";
import { Package } from "./package.js";

/** The static side a model class gets (and overrides). */
export interface AutoModelStatics<M> {
  /** Where the model's default checkpoint lives; downloads nothing. */
  loadDefaultPackage(): Package;
  /** Build the model from a package, resolving its files as needed. */
  loadModel(pkg: Package, options?: Record<string, unknown>): Promise<M>;
}

type AbstractConstructor = abstract new (...args: any[]) => object;

/**
 * Add `loadDefaultPackage`, `loadModel` and `fromPretrained` to a base class:
 *
 *   class Fcn extends AutoModelMixin(Object) {
 *     static override loadDefaultPackage() { return new Package("https://host/fcn", { cacheOptions: { cacheStorage: Package.defaultCache("fcn"), sameNames: true } }); }
 *     static override async loadModel(pkg: Package) { return new Fcn(await readWeights(await pkg.resolve("fcn.bin"))); }
 *   }
 *   const model = await Fcn.fromPretrained();            // default package
 *   const other = await Fcn.fromPretrained("/my/ckpt");   // any root: URL or local path
 */
export function AutoModelMixin<TBase extends AbstractConstructor>(Base: TBase) {
  abstract class AutoModel extends Base {
    /** Where the default checkpoint lives; downloads nothing. Model classes override it. */
    static loadDefaultPackage(): Package {
      throw FsError.enotsup(`${this.name}.loadDefaultPackage() is not implemented`);
    }

    /** Build the model from a package, resolving its files as needed. Model classes override it. */
    static async loadModel(_pkg: Package, _options?: Record<string, unknown>): Promise<unknown> {
      throw FsError.enotsup(`${this.name}.loadModel() is not implemented`);
    }

    /** `loadModel(root ? new Package(root) : loadDefaultPackage())`. */
    static async fromPretrained<S extends AutoModelStatics<unknown>>(
      this: S,
      root?: string | Package,
      options?: Record<string, unknown>,
    ): Promise<Awaited<ReturnType<S["loadModel"]>>> {
      const pkg = root === undefined ? this.loadDefaultPackage() : typeof root === "string" ? new Package(root) : root;
      return (await this.loadModel(pkg, options)) as Awaited<ReturnType<S["loadModel"]>>;
    }
  }
  return AutoModel;
}

/** A base class for models that extend nothing else. */
export abstract class AutoModel extends AutoModelMixin(Object) {}
