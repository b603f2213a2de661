/**
 * Opening connections a few at a time per origin. A burst of requests on an empty pool would
 * otherwise open every connection at once, and a small server overflows its listen backlog:
 * python's http.server (a backlog of 5, a new connection per request) then drops the extra SYNs
 * and each costs a 1 s retransmit (300 files of 4 KiB at 64 connections: 10 s instead of 0.5 s).
 * A connection counts as opening from its connect until the server first sends a byte on it (or
 * it closes, or `answerWaitMs` passes: a server slow to answer does not hold back the others).
 */
import type { Socket } from "node:net";
import type { buildConnector } from "undici";

/** Connections opening at once per origin: below python http.server's backlog of 5. */
export const OPENING_PER_ORIGIN = 4;
/** How long a new connection may stay silent and still count as opening. */
export const ANSWER_WAIT_MS = 500;

/** The connections of one origin opening now, and the connects waiting for their turn. */
interface Opening {
  active: number;
  waiting: Array<() => void>;
}

/** A connector for undici that opens at most `perOrigin` connections per origin at once. */
export function rampedConnector(
  connect: buildConnector.connector,
  perOrigin = OPENING_PER_ORIGIN,
  answerWaitMs = ANSWER_WAIT_MS,
): buildConnector.connector {
  const origins = new Map<string, Opening>();
  return (options, callback) => {
    const key = `${options.protocol}//${options.hostname}:${options.port}`;
    let state = origins.get(key);
    if (!state) origins.set(key, (state = { active: 0, waiting: [] }));
    const origin = state;
    const finished = () => {
      const next = origin.waiting.shift();
      if (next) return next(); // the slot passes straight to the next connect
      origin.active--;
      // Nothing opening, nobody waiting: the entry goes, so the map never grows with origins seen once.
      if (origin.active === 0 && origins.get(key) === origin) origins.delete(key);
    };
    const start = () =>
      connect(options, (...args) => {
        const [err, socket] = args;
        if (err || !socket) finished();
        else releaseOnAnswer(socket, answerWaitMs, finished);
        callback(...args);
      });
    if (origin.active < perOrigin) {
      origin.active++;
      start();
    } else {
      origin.waiting.push(start);
    }
  };
}

/** Call `release` once: on the socket's first readable bytes, its close, or after `waitMs`. */
function releaseOnAnswer(socket: Socket, waitMs: number, release: () => void): void {
  const once = () => {
    clearTimeout(timer);
    // undici reads the socket in paused mode ('readable' + read()): one more listener changes nothing.
    socket.off("readable", once).off("close", once);
    release();
  };
  const timer = setTimeout(once, waitMs);
  timer.unref();
  socket.once("readable", once).once("close", once);
}
