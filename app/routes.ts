// The request handler: plain node:http (bench/app.ts shows what it costs next to a bare server).
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { type Logger, loggedUrl } from "./log";
import { increment, timing } from "./metrics";

export interface WorkerState {
  /** False from the moment shutdown begins: /readyz fails. */
  ready: boolean;
  /** True once the server stops accepting: every response closes its connection. */
  closing: boolean;
  inFlight: number;
}

export interface RouteOptions {
  log: Logger;
  state: WorkerState;
  maxBodyBytes: number;
  debugRoutes: boolean;
  /** Log whole URLs, query values included (LOG_FULL_URL=1); by default the path and the query's keys. */
  logFullUrl?: boolean;
}

const MAX_SLOW_MS = 30_000;
const REQUEST_ID = /^[\w.:-]{1,128}$/;

const sessionBody = z.object({
  user: z.string().min(1).max(128),
  ttlSeconds: z.number().int().min(60).max(86_400).default(3600),
});

// Tag arrays are built once per (route, status class), not per request.
const tagCache = new Map<string, string[][]>();
function requestTags(route: string, status: number): string[] {
  let byClass = tagCache.get(route);
  if (!byClass) tagCache.set(route, (byClass = []));
  const cls = Math.floor(status / 100);
  return (byClass[cls] ??= [`route:${route}`, `status_class:${cls}xx`]);
}

type Response = ServerResponse & { requestId?: string };

// All headers in one writeHead object: Node's fast path (no per-header setHeader calls).
function send(res: Response, state: WorkerState, status: number, body: string, type = "application/json"): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | number> = { "content-type": type, "content-length": Buffer.byteLength(body) };
  if (res.requestId !== undefined) headers["x-request-id"] = res.requestId;
  if (state.closing) headers.connection = "close";
  res.writeHead(status, headers);
  res.end(body);
}

const sendError = (res: ServerResponse, state: WorkerState, status: number, error: string) =>
  send(res, state, status, JSON.stringify({ error }));

export function createHandler(o: RouteOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { log, state } = o;
  const statusBody = JSON.stringify({ status: "ok", pid: process.pid });

  return (req, res) => {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);

    // Health checks: no log line, no metrics.
    if (path === "/healthz") return send(res, state, 200, "ok\n", "text/plain");
    if (path === "/readyz")
      return send(res, state, state.ready ? 200 : 503, state.ready ? "ready\n" : "shutting down\n", "text/plain");

    const start = performance.now();
    const inbound = req.headers["x-request-id"];
    const requestId = typeof inbound === "string" && REQUEST_ID.test(inbound) ? inbound : randomUUID();
    (res as Response).requestId = requestId;
    let route = "unmatched";
    state.inFlight++;
    res.once("close", () => {
      state.inFlight--;
      const durationMs = Math.round((performance.now() - start) * 1000) / 1000;
      const status = res.statusCode;
      const logged = loggedUrl(url, o.logFullUrl === true);
      if (res.writableFinished) log.info({ method: req.method, url: logged, status, durationMs, requestId }, "request");
      else log.info({ method: req.method, url: logged, status, durationMs, requestId, aborted: true }, "request");
      const tags = requestTags(route, status);
      increment("request.count", tags);
      timing("request.duration", durationMs, tags);
    });

    const method = req.method ?? "GET";
    const only = (allowed: string): boolean => {
      if (method === allowed || (allowed === "GET" && method === "HEAD")) return true;
      res.setHeader("allow", allowed);
      sendError(res, state, 405, `method ${method} not allowed on ${path}`);
      return false;
    };

    switch (path) {
      case "/api/status":
        route = path;
        if (only("GET")) send(res, state, 200, statusBody);
        return;
      case "/api/session":
        route = path;
        if (only("POST")) readJson(req, res, o, (body) => createSession(res, state, body));
        return;
      case "/api/slow": {
        route = path;
        if (!only("GET")) return;
        const raw = new URLSearchParams(q === -1 ? "" : url.slice(q + 1)).get("ms") ?? "";
        const ms = /^\d{1,5}$/.test(raw) ? Number(raw) : -1;
        if (ms < 0 || ms > MAX_SLOW_MS)
          return sendError(res, state, 400, `query parameter ms must be an integer 0-${MAX_SLOW_MS}`);
        const t = setTimeout(() => send(res, state, 200, JSON.stringify({ sleptMs: ms })), ms);
        res.once("close", () => clearTimeout(t));
        return;
      }
    }
    if (o.debugRoutes && path === "/debug/block") {
      route = path;
      // Blocks the event loop on purpose, to show the event-loop delay gauge rising.
      const ms = Math.min(Number(new URLSearchParams(url.slice(q + 1)).get("ms")) || 0, MAX_SLOW_MS);
      const until = performance.now() + ms;
      while (performance.now() < until);
      return send(res, state, 200, JSON.stringify({ blockedMs: ms }));
    }
    if (o.debugRoutes && path === "/debug/crash") {
      route = path;
      send(res, state, 200, JSON.stringify({ crashing: true }));
      setImmediate(() => {
        throw new Error("deliberate crash (/debug/crash)");
      });
      return;
    }
    sendError(res, state, 404, `no route ${path}`);
  };
}

function createSession(res: ServerResponse, state: WorkerState, raw: unknown): void {
  const parsed = sessionBody.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return sendError(res, state, 400, `body.${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const expiresAt = new Date(Date.now() + parsed.data.ttlSeconds * 1000).toISOString();
  send(res, state, 201, JSON.stringify({ sessionId: randomUUID(), user: parsed.data.user, expiresAt }));
}

/** Reads a JSON body within the size limit; answers 415/413/400 itself on bad input. */
function readJson(req: IncomingMessage, res: ServerResponse, o: RouteOptions, then: (body: unknown) => void): void {
  const { state } = o;
  const type = req.headers["content-type"] ?? "";
  if (!/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)) {
    res.setHeader("connection", "close"); // the unread body must not be parsed as the next request
    return sendError(res, state, 415, "content-type must be application/json");
  }
  const declared = Number(req.headers["content-length"]);
  const tooLarge = () => {
    res.setHeader("connection", "close");
    sendError(res, state, 413, `body larger than ${o.maxBodyBytes} bytes`);
  };
  if (declared > o.maxBodyBytes) return tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (chunk: Buffer) => {
    if (res.headersSent) return;
    size += chunk.length;
    if (size > o.maxBodyBytes) return tooLarge();
    chunks.push(chunk);
  });
  req.on("error", () => undefined); // client went away; 'close' logs the request
  req.on("end", () => {
    if (res.headersSent) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks, size).toString("utf8"));
    } catch {
      return sendError(res, state, 400, "body is not valid JSON");
    }
    then(body);
  });
}
