/**
 * NO_PROXY as curl reads it: a list of entries separated by commas or spaces. A name matches
 * the host itself and every host below it (`example.com`, `.example.com` and `*.example.com`
 * all match `example.com` and `a.example.com`); an IP address matches that address, a CIDR
 * block (`10.0.0.0/8`, `fd00::/8`) every address in it; IPv6 may be written with or without
 * brackets; `entry:port` limits an entry to one port; `*` alone matches every host. Names are
 * never resolved: an IP entry matches only URLs written with an IP address.
 */
import type { BlockList } from "node:net";
import { loadedOnFirstUse } from "../../core/first-use.js";

const net = loadedOnFirstUse<typeof import("node:net")>("node:net");

interface NameEntry {
  name: string;
  port: number | undefined;
}

interface AddressEntry {
  block: BlockList;
  port: number | undefined;
}

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

/** `[v6]`, `[v6]:port`, `host:port` or `host`, split; an IPv6 address without brackets keeps its colons. */
function splitPort(entry: string): { host: string; port: number | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  if (withPort) return { host: withPort[1]!, port: Number(withPort[2]) };
  return { host: entry, port: undefined };
}

/** A BlockList holding the address or CIDR block `text`, or undefined when it is neither. */
function addressBlock(text: string): BlockList | undefined {
  const [address, bits, extra] = text.split("/");
  const family = net().isIP(address!);
  if (family === 0 || extra !== undefined) return undefined;
  const type = family === 4 ? "ipv4" : "ipv6";
  const block = new (net().BlockList)();
  if (bits === undefined) {
    block.addAddress(address!, type);
    return block;
  }
  const prefix = Number(bits);
  if (!/^\d+$/.test(bits) || prefix > (family === 4 ? 32 : 128)) return undefined;
  block.addSubnet(address!, prefix, type);
  return block;
}

export class NoProxy {
  private readonly names: NameEntry[] = [];
  private readonly addresses: AddressEntry[] = [];
  private everything = false;

  /** The list as NO_PROXY spells it; entries that are none of the forms above are ignored. */
  constructor(list: string) {
    for (const raw of list.split(/[\s,]+/)) {
      const entry = raw.trim().toLowerCase();
      if (entry === "") continue;
      if (entry === "*") {
        this.everything = true;
        continue;
      }
      const { host, port } = splitPort(entry);
      const block = addressBlock(host);
      if (block) this.addresses.push({ block, port });
      else if (!host.includes("/") && !host.includes(":")) {
        const name = host.replace(/^\*?\./, "").replace(/\.$/, "");
        if (name !== "") this.names.push({ name, port });
      }
    }
  }

  /** `*`: no host is proxied. */
  get everyHost(): boolean {
    return this.everything;
  }

  /** Whether a request to `url` goes direct. */
  matches(url: URL): boolean {
    if (this.everything) return true;
    const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase().replace(/\.$/, "");
    const port = url.port === "" ? DEFAULT_PORTS[url.protocol] : Number(url.port);
    const family = net().isIP(host);
    const portFits = (p: number | undefined) => p === undefined || p === port;
    if (family !== 0) {
      const type = family === 4 ? "ipv4" : "ipv6";
      return this.addresses.some((e) => portFits(e.port) && e.block.check(host, type));
    }
    return this.names.some((e) => portFits(e.port) && (host === e.name || host.endsWith(`.${e.name}`)));
  }
}
