import type { IncomingMessage } from 'node:http';
import { type BlockList, isIP } from 'node:net';

/** An address as forwarding headers write it: `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `"[::1]"`. */
function bareAddress(value: string): string | undefined {
  let v = value.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    v = end === -1 ? '' : v.slice(1, end);
  } else if (v.indexOf(':') !== -1 && v.indexOf(':') === v.lastIndexOf(':')) {
    v = v.slice(0, v.indexOf(':')); // IPv4 with a port
  }
  return isIP(v) === 0 ? undefined : v;
}

/** The `for=` addresses of a `Forwarded` header (RFC 7239), left to right; others as ''. */
function forwardedFor(header: string): string[] {
  const out: string[] = [];
  for (const element of header.split(',')) {
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=');
      if (eq === -1 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
      out.push(pair.slice(eq + 1));
    }
  }
  return out;
}

function headerText(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.join(',') : value;
}

const familyOf = (address: string): 'ipv4' | 'ipv6' => (isIP(address) === 4 ? 'ipv4' : 'ipv6');

/**
 * The client's address: the connection's peer, unless the peer is a trusted proxy; then the
 * right-most address of `X-Forwarded-For` (else of `Forwarded`'s `for=`) that is not itself a
 * trusted proxy. Proxies append the address they received the request from, so everything right
 * of that entry was written by trusted hops, and everything left of it by whoever the client is —
 * forged entries there are never read. An entry that is no address (`unknown`, an obfuscated
 * name) stops the walk at the last trusted hop's address.
 */
export function clientAddress(req: IncomingMessage, trusted: BlockList | undefined): string {
  const peer = req.socket?.remoteAddress ?? '';
  if (trusted === undefined || peer === '' || !trusted.check(peer, familyOf(peer))) return peer;
  const xff = headerText(req.headers['x-forwarded-for']);
  let hops: string[];
  if (xff !== undefined) hops = xff.split(',');
  else {
    const forwarded = headerText(req.headers.forwarded);
    if (forwarded === undefined) return peer;
    hops = forwardedFor(forwarded);
  }
  let address = peer;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = bareAddress(hops[i] ?? '');
    if (hop === undefined) return address;
    address = hop;
    if (!trusted.check(hop, familyOf(hop))) return hop;
  }
  // Every hop is trusted: the left-most is as close to the client as anyone said.
  return address;
}
