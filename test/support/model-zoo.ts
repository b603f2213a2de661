/**
 * A replay shaped like a real model zoo, for request counts (tests and `npm run bench`): one
 * repository holding three model packages the way Earth2Studio's are laid out (metadata,
 * configs, normalisation statistics, land-sea masks, a checkpoint each) plus the repository's
 * own files: 24 files, the three checkpoints (9, 12 and 20 MiB) large enough that a Hub keeps
 * them in LFS, everything else small. Bytes are deterministic.
 */

export interface ZooFile {
  data: Uint8Array;
  /** Whether a Hub stores it in LFS (the checkpoints: at least 8 MiB). */
  lfs: boolean;
}

export const LFS_THRESHOLD = 8 * 2 ** 20;

function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i += 4) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x & 0xff;
    out[i + 1] = (x >>> 8) & 0xff;
    out[i + 2] = (x >>> 16) & 0xff;
    out[i + 3] = (x >>> 24) & 0xff;
  }
  return out;
}

const MiB = 2 ** 20;
const text = (s: string) => new TextEncoder().encode(s);

/** Path -> file. */
export function modelZoo(): Record<string, ZooFile> {
  const layout: Record<string, number | string> = {
    "README.md": "# A zoo of weather models\n",
    "LICENSE": "Apache-2.0\n",
    ".gitattributes": "*.tar filter=lfs diff=lfs merge=lfs -text\n*.mdlus filter=lfs diff=lfs merge=lfs -text\n",
    "sfno_73ch_small/metadata.json": '{"architecture": "sfno", "channels": 73}\n',
    "sfno_73ch_small/config.json": '{"embed_dim": 256, "num_layers": 8}\n',
    "sfno_73ch_small/global_means.npy": 73 * 8 + 128,
    "sfno_73ch_small/global_stds.npy": 73 * 8 + 128,
    "sfno_73ch_small/training_checkpoints/best_ckpt_mp0.tar": 20 * MiB,
    "fcn/metadata.json": '{"architecture": "afno", "channels": 26}\n',
    "fcn/config.yaml": "patch_size: 8\nembed_dim: 768\n",
    "fcn/global_means.npy": 26 * 8 + 128,
    "fcn/global_stds.npy": 26 * 8 + 128,
    "fcn/fcn.mdlus": 12 * MiB,
    "dlwp/metadata.json": '{"architecture": "dlwp", "grid": "cubed-sphere"}\n',
    "dlwp/config.yaml": "nside: 64\nlevels: 7\n",
    "dlwp/global_means.npy": 7 * 8 + 128,
    "dlwp/global_stds.npy": 7 * 8 + 128,
    "dlwp/lsm.nc": 64 * 1024,
    "dlwp/orography.nc": 64 * 1024,
    "dlwp/latlon_grid.nc": 96 * 1024,
    "dlwp/cs_grid.nc": 48 * 1024,
    "dlwp/dlwp.mdlus": 9 * MiB,
    "dlwp/checksums.sha256": "sha256 sums of the package\n",
    "dlwp/README.md": "# DLWP\n",
  };
  const zoo: Record<string, ZooFile> = {};
  let seed = 1;
  for (const [path, spec] of Object.entries(layout)) {
    const data = typeof spec === "string" ? text(spec) : bytesOf(spec, seed++);
    zoo[path] = { data, lfs: data.byteLength >= LFS_THRESHOLD };
  }
  return zoo;
}
