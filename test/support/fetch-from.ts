// A fetch whose connections leave from a loopback address of the test's
// choosing (all of 127.0.0.0/8 is loopback): the balancer, and behind it the
// login limit per client address, see each simulated client as its own.
import { request } from 'node:http';

export function fetchFrom(localAddress: string): typeof fetch {
  return (input, init) => new Promise<Response>((resolve, reject) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const sent = request(url, { method: init?.method ?? 'GET', headers, localAddress, agent: false, signal: init?.signal ?? undefined }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk)).on('error', reject).on('end', () => {
        const status = answer.statusCode ?? 0;
        const body = status === 204 || status === 304 || chunks.length === 0 ? null : Buffer.concat(chunks);
        const answered = new Headers();
        for (const [name, value] of Object.entries(answer.headers)) {
          for (const one of Array.isArray(value) ? value : [value ?? '']) answered.append(name, one);
        }
        resolve(new Response(body, { status, headers: answered }));
      });
    });
    sent.on('error', reject).end(typeof init?.body === 'string' ? init.body : undefined);
  });
}
