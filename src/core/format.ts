/** Human-friendly numbers for messages, listings and progress bars. */

/** `1.5K`, `20M`, `3G` or plain bytes. */
export function formatBytes(n: number): string {
  const units = ["B", "K", "M", "G", "T"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n}B` : `${v.toFixed(v < 10 ? 1 : 0)}${units[u]}`;
}
