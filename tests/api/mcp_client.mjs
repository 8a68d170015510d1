// mcp_client.mjs — drives slotd's /mcp with the official TypeScript SDK (@modelcontextprotocol/sdk),
// as an agent would: initialize, list tools (anonymous and with the host's key), find slots, book,
// look the booking up by its confirmation number, cancel it, list the host's bookings. Prints one
// JSON line with what each step saw before the cancellation, waits for a line on stdin (the test
// looks at the database meanwhile), cancels, and prints a second line; test_mcp.py asserts on them.
//
// usage: node mcp_client.mjs <sdk dir> <plan json>
//   plan: {url, key, headers, slug, event_slug, start, end, timezone, name, email}
import path from "node:path";
import { pathToFileURL } from "node:url";

const [sdkDir, planText] = process.argv.slice(2);
const plan = JSON.parse(planText);
const sdk = (p) => import(pathToFileURL(path.join(sdkDir, "node_modules", "@modelcontextprotocol", "sdk", "dist", "esm", p)).href);
const { Client } = await sdk("client/index.js");
const { StreamableHTTPClientTransport } = await sdk("client/streamableHttp.js");

async function connect(headers) {
  const transport = new StreamableHTTPClientTransport(new URL(plan.url), { requestInit: { headers } });
  const client = new Client({ name: "slotd-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, transport };
}

// A tool call's answer: the text content parsed as JSON, the structured content, the error flag.
async function call(client, name, args) {
  const r = await client.callTool({ name, arguments: args });
  const text = r.content && r.content[0] && r.content[0].type === "text" ? r.content[0].text : null;
  let parsed = null;
  try { parsed = JSON.parse(text); } catch { parsed = null; }
  return { isError: !!r.isError, text: parsed, structured: r.structuredContent ?? null };
}

const out = {};
const anon = await connect({ ...plan.headers });
out.protocolVersion = anon.transport.protocolVersion;
out.serverInfo = anon.client.getServerVersion();
out.capabilities = anon.client.getServerCapabilities();
out.instructions = anon.client.getInstructions();
const listed = await anon.client.listTools();
out.anonTools = listed.tools.map((t) => t.name);
out.toolsHaveSchemas = listed.tools.every((t) => t.inputSchema && t.inputSchema.type === "object" && t.outputSchema);
await anon.client.ping();

out.eventTypes = await call(anon.client, "list_event_types", { slug: plan.slug });
out.slots = await call(anon.client, "find_slots", {
  slug: plan.slug, event_slug: plan.event_slug, start: plan.start, end: plan.end, timezone: plan.timezone,
});
const first = out.slots.structured && out.slots.structured.slots[0];
out.booked = await call(anon.client, "book", {
  slug: plan.slug, event_slug: plan.event_slug, start: first.start, name: plan.name, email: plan.email,
  timezone: plan.timezone, notes: "booked by an agent",
});
const booking = out.booked.structured.booking;
out.got = await call(anon.client, "get_booking", { confirmation_number: booking.confirmation_number, contact: plan.email });
// the host's tools are not there without the key: calling one says a key is needed
out.anonHostCall = await call(anon.client, "list_bookings", {});

const host = await connect({ ...plan.headers, Authorization: `Bearer ${plan.key}` });
out.hostTools = (await host.client.listTools()).tools.map((t) => t.name);
out.hostList = await call(host.client, "list_bookings", { status: "confirmed" });

process.stdout.write(JSON.stringify(out) + "\n");
await new Promise((resolve) => process.stdin.once("data", resolve));
process.stdin.pause();

out.cancelled = await call(anon.client, "cancel_booking", {
  confirmation_number: booking.confirmation_number, contact: plan.email.toUpperCase(), reason: "plans changed",
});
out.gotAfter = await call(anon.client, "get_booking", { confirmation_number: booking.confirmation_number, contact: plan.email });
await anon.client.close();
await host.client.close();
process.stdout.write(JSON.stringify(out) + "\n");
