/**
 * A process that imports one backend's subpath only (as `import "fsspec-ts/http"` would), then
 * downloads and uploads with get/put through the local disk, printing what arrived:
 *   node --import tsx subpath-child.ts http <tmpDir>
 *   node --import tsx subpath-child.ts s3 <tmpDir> <endpoint> <bucket>
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { readFile, writeFile } from "node:fs/promises";

const [entry, dir, endpoint, bucket] = process.argv.slice(2) as [string, string, string?, string?];
await writeFile(`${dir}/up.txt`, `uploaded through ${entry}`);

if (entry === "http") {
  const stored = new Map<string, Buffer>([["/f", Buffer.from("hello over http")]]);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method === "PUT") {
        stored.set(req.url!, Buffer.concat(chunks));
        res.writeHead(201).end();
        return;
      }
      const body = stored.get(req.url!);
      if (!body) return res.writeHead(404).end();
      res.writeHead(200, { "content-length": body.byteLength, "accept-ranges": "bytes" }).end(req.method === "HEAD" ? undefined : body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { HTTPFileSystem } = await import("../../../src/implementations/http.js");
  const fs = new HTTPFileSystem({ retries: 0 });
  await fs.get(`${base}/f`, `${dir}/got.txt`);
  await fs.put(`${dir}/up.txt`, `${base}/up`);
  process.stdout.write(`${await readFile(`${dir}/got.txt`, "utf8")}\n${stored.get("/up")?.toString()}\n`);
  await fs.close();
  server.close();
} else {
  const { S3FileSystem } = await import("../../../src/implementations/s3.js");
  const fs = new S3FileSystem({ endpoint, region: "us-east-1", key: "testing-key", secret: "testing-secret-value" });
  await fs.put(`${dir}/up.txt`, `s3://${bucket}/up.txt`);
  await fs.get(`s3://${bucket}/up.txt`, `${dir}/got.txt`);
  process.stdout.write(`${await readFile(`${dir}/got.txt`, "utf8")}\n`);
  await fs.close();
}
