/**
 * The S3 backend on first use. Its client, the AWS SDK, is an optional peer dependency (13 MB
 * that users of the other backends never need), so `s3://` may find it missing: then loading the
 * backend fails with ENOTSUP (this installation does not support the protocol; the input is fine,
 * so not EINVAL) naming the package that is missing and the command that installs the SDK at the
 * versions fsspec-ts is tested with, instead of Node's bare ERR_MODULE_NOT_FOUND.
 */
import type { FileSystemClass } from "../../core/abstract.js";
import { FsError } from "../../core/errors.js";

/** The SDK packages and the versions the backend is tested with (the pins of package.json's devDependencies). */
export const S3_SDK_PACKAGES: Readonly<Record<string, string>> = {
  "@aws-sdk/client-s3": "3.1169.0",
  "@aws-sdk/s3-request-presigner": "3.1169.0",
};

/** The install command for the SDK, e.g. `npm install @aws-sdk/client-s3@3.1169.0 ...`. */
export function s3InstallCommand(): string {
  return `npm install ${Object.entries(S3_SDK_PACKAGES).map(([name, version]) => `${name}@${version}`).join(" ")}`;
}

/** The SDK package an import error says is missing, if it is one of them. */
function missingSdkPackage(err: unknown): string | undefined {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (code !== "ERR_MODULE_NOT_FOUND" || typeof message !== "string") return undefined;
  return Object.keys(S3_SDK_PACKAGES).find((name) => message.includes(`'${name}'`));
}

export async function loadS3FileSystem(): Promise<FileSystemClass> {
  try {
    return (await import("../s3.js")).S3FileSystem;
  } catch (err) {
    const missing = missingSdkPackage(err);
    if (missing === undefined) throw err;
    throw new FsError(
      "ENOTSUP",
      `s3:// needs the AWS SDK, an optional peer dependency of fsspec-ts, and '${missing}' is not installed; install it with: ${s3InstallCommand()}`,
      { cause: err },
    );
  }
}
