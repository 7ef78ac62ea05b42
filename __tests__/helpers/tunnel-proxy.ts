import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { listenOnLoopback } from './local.js';

/**
 * A forward proxy as corporate networks have them: it opens CONNECT tunnels (logging each target) and records any
 * plain request sent to it, which it answers 502 without forwarding. With `refuse` it answers every CONNECT with that
 * status instead of a tunnel.
 */
export interface TunnelProxy {
  readonly url: string;
  /** `CONNECT host:port` and `GET http://…` lines, in order. */
  readonly log: string[];
  close(): Promise<void>;
}

export async function startTunnelProxy(options: { refuse?: number } = {}): Promise<TunnelProxy> {
  const log: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    res.writeHead(502).end('this proxy forwards only tunnels');
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    log.push(`CONNECT ${req.url}`);
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (options.refuse !== undefined) {
      client.end(`HTTP/1.1 ${options.refuse} Refused\r\nProxy-Authenticate: Basic realm="test"\r\n\r\n`);
      return;
    }
    const [host = '', port = ''] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}`,
    log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
