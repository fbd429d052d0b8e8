// A stand-in DNS server on loopback for tests of HAProxy's DNS discovery (server-template + resolvers), in the
// role of Docker's embedded DNS or the VPC resolver: UDP, A records of one name set by the test, TTL 1 s, AAAA
// answered empty, any other name NXDOMAIN. RFC 1035 message format; an EDNS OPT record in the query is ignored
// (RFC 6891 lets a server without EDNS answer without one).
import * as dgram from "node:dgram";
import { AddressInfo } from "node:net";

export interface DnsStandIn {
  port: number;
  /** Names and their current IPv4 addresses. */
  records: Map<string, string[]>;
  /** A queries answered, by name. */
  queries: Map<string, number>;
  close(): Promise<void>;
}

function readName(msg: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  while (i < msg.length && msg[i] !== 0) {
    const len = msg[i]!;
    labels.push(msg.subarray(i + 1, i + 1 + len).toString("ascii"));
    i += 1 + len;
  }
  return { name: labels.join(".").toLowerCase(), end: i + 1 };
}

function answer(query: Buffer, records: Map<string, string[]>, queries: Map<string, number>): Buffer | undefined {
  if (query.length < 12 || query.readUInt16BE(4) !== 1) return undefined;
  const { name, end } = readName(query, 12);
  const qtype = query.readUInt16BE(end);
  const question = query.subarray(12, end + 4);
  const known = records.get(name);
  const addresses = known && qtype === 1 ? known : [];
  if (qtype === 1) queries.set(name, (queries.get(name) ?? 0) + 1);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  // QR, the query's opcode and RD, AA, RA; RCODE 3 (NXDOMAIN) for an unknown name.
  const flags = 0x8000 | (query.readUInt16BE(2) & 0x7900) | 0x0400 | 0x0080 | (known ? 0 : 3);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(addresses.length, 6);
  const answers = addresses.map((ip) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
    rr.writeUInt16BE(1, 2); // A
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(1, 6); // TTL 1 s
    rr.writeUInt16BE(4, 10);
    ip.split(".").forEach((o, k) => rr.writeUInt8(Number(o), 12 + k));
    return rr;
  });
  return Buffer.concat([header, question, ...answers]);
}

export async function startDns(host = "127.0.0.1"): Promise<DnsStandIn> {
  const socket = dgram.createSocket("udp4");
  const records = new Map<string, string[]>();
  const queries = new Map<string, number>();
  socket.on("message", (msg, from) => {
    const reply = answer(msg, records, queries);
    if (reply) socket.send(reply, from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return {
    port: (socket.address() as AddressInfo).port,
    records,
    queries,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
