// What a team leader sends is kept in this browser (IndexedDB) until the server has it: with no
// network it waits, and goes when the network returns. Each entry carries a key made here (a
// UUID, sent as the record's source_key); the server adds a key once and answers a resend with
// the stored record, so an entry whose answer was lost on the way is sent again and still
// counted once. An entry the server refuses stays, with the server's sentence, for the user to
// fix or discard. States: queued, sent (with the record's id), refused (with the reason).

import { api } from "./app.js";
import { t } from "./i18n.js";

const DB = "sapper-outbox";
const STORE = "entries";
const RETRY_MS = 30_000;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function open() {
  const req = indexedDB.open(DB, 1);
  req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: "key" });
  return request(req);
}

async function store(mode) {
  const db = await open();
  return db.transaction(STORE, mode).objectStore(STORE);
}

// A random UUID (version 4); crypto.randomUUID only exists on https and localhost pages.
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// A user's entries, oldest first: what another user left in this browser is not theirs to send.
export async function entries(user) {
  const all = await request((await store("readonly")).getAll());
  return all.filter((e) => e.user === user).sort((a, b) => a.made - b.made);
}

async function put(entry) {
  await request((await store("readwrite")).put(entry));
}

export async function discard(key) {
  await request((await store("readwrite")).delete(key));
}

// Where a failed send leaves an entry: refused by the server (its sentence kept), or still
// queued when the network, the login or the server's load is the reason.
function outcome(error) {
  const status = error.status;
  if (status === undefined || status === 401 || status === 408 || status === 429 || status >= 500) return null;
  return error.message;
}

export class Outbox {
  // The logged-in user's outbox; onChange(entries) after every change.
  constructor(user, onChange) {
    this.user = user;
    this.onChange = onChange;
    this.sending = null;
    window.addEventListener("online", () => this.flush());
    setInterval(() => this.flush(), RETRY_MS);
  }

  async changed() {
    this.onChange(await entries(this.user));
  }

  // Keep a record to send (kind "report" or "item", the path to POST to, the body, a title),
  // try to send it, and answer the entry as it stands after: sent, refused or still queued.
  async keep(kind, path, body, title) {
    const key = newKey();
    const entry = { key, kind, path, title, user: this.user, made: Date.now(), state: "queued", body: { ...body } };
    if (kind === "item") entry.body.properties = { ...entry.body.properties, source_key: key };
    else entry.body.source_key = key;
    await put(entry);
    await this.changed();
    const running = this.sending; // a round that started before this entry was kept misses it
    await this.flush();
    if (running) await this.flush();
    return request((await store("readonly")).get(key));
  }

  // Send every queued entry, one at a time; a second call while sending waits for the first.
  flush() {
    if (!this.sending) {
      this.sending = this.sendAll().finally(() => {
        this.sending = null;
      });
    }
    return this.sending;
  }

  async sendAll() {
    for (const entry of await entries(this.user)) {
      if (entry.state !== "queued") continue;
      if (!navigator.onLine) break;
      try {
        const saved = await api(entry.path, { method: "POST", body: entry.body });
        Object.assign(entry, { state: "sent", id: saved.id, reason: null });
      } catch (error) {
        const reason = outcome(error);
        if (reason === null) {
          entry.reason = t("not sent yet: {reason}", { reason: error.message });
          await put(entry);
          await this.changed();
          break; // no network or a busy server: the rest waits too
        }
        Object.assign(entry, { state: "refused", reason });
      }
      await put(entry);
      await this.changed();
    }
  }
}
