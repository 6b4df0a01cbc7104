/**
 * One-way delay in user space (this kernel has no netem qdisc): a TCP relay that holds every chunk
 * `delayMs` before passing it on, in order, in each direction, so each round trip gains 2 × delayMs.
 * It runs inside the coordinator's host, where `ssh` adds `ProxyCommand socat - TCP:127.0.0.1:<port>`
 * for each builder (latency.ts), so every connection to a builder takes the delay: Nix's sessions,
 * dnb's ssh master and claims, whoever configured Nix.
 *
 * Usage: latency_relay.ts <delayMs> <listenPort>=<targetAddress>:<targetPort> …
 */
const [delayArg, ...routes] = Deno.args;
const delayMs = Number(delayArg);
if (!Number.isFinite(delayMs) || delayMs < 0 || routes.length === 0) {
  console.error("usage: latency_relay.ts <delayMs> <listenPort>=<address>:<port> …");
  Deno.exit(2);
}

/** Copies `from` to `to`, each chunk delivered `delayMs` after it arrived; ends `to`'s writing side at the end. */
async function delayed(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
  const writer = to.writable.getWriter();
  let delivered = Promise.resolve();
  try {
    for await (const chunk of from.readable) {
      const due = performance.now() + delayMs;
      delivered = delivered.then(async () => {
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        await writer.write(chunk);
      });
    }
    await delivered;
    await to.closeWrite();
  } catch {
    // Either side went away: the other is closed below.
  } finally {
    writer.releaseLock();
  }
}

async function relay(client: Deno.TcpConn, target: { hostname: string; port: number }): Promise<void> {
  let server: Deno.TcpConn;
  try {
    server = await Deno.connect(target);
  } catch {
    client.close();
    return;
  }
  client.setNoDelay(true);
  server.setNoDelay(true);
  await Promise.allSettled([delayed(client, server), delayed(server, client)]);
  for (const conn of [client, server]) {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  }
}

for (const route of routes) {
  const match = /^(\d+)=([\d.]+):(\d+)$/.exec(route);
  if (!match) {
    console.error(`bad route ${route}`);
    Deno.exit(2);
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: Number(match[1]) });
  const target = { hostname: match[2]!, port: Number(match[3]) };
  (async () => {
    for await (const client of listener) relay(client, target);
  })();
}
console.log(`relaying ${routes.join(" ")} with ${delayMs} ms each way`);
