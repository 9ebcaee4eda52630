// The API the PLANET core (Go compiled to WebAssembly) exposes to the page.
//
// wasm/ installs one object, `globalThis.planet`, once the module has started;
// it then dispatches a `planet-ready` event on `window`. Other events on
// `window` while starting:
//   - `planet-waiting`: another tab of this origin holds the vault (one tab
//     at a time may); the core starts as soon as that tab closes.
//   - `planet-failed`: the core cannot start (e.g. IndexedDB refused); the
//     event's `detail` is a PlanetError saying why.
// Every method that touches the vault returns a Promise. A rejected Promise
// carries a PlanetError: a plain JS Error with a stable `code` and a human
// message that can be shown to the person as it is.

export type ErrorCode =
  | "no_vault"          // there is no vault in this browser yet
  | "vault_exists"      // create was called but a vault already exists
  | "locked"            // the vault is locked; unlock it first
  | "wrong_passphrase"  // the passphrase does not open this vault
  | "weak_passphrase"   // refused by the strength check; message says why
  | "invalid"           // bad input (empty name, malformed DID, …); message says which
  | "not_found"         // no record with that id
  | "corrupt"           // stored or imported data failed authentication
  | "bad_export"        // an import file is not a PLANET export, is truncated, or the passphrase is wrong
  | "storage"           // IndexedDB refused (quota, private mode, …)
  | "internal";         // a bug: please report

export interface PlanetError extends Error {
  code: ErrorCode;
}

export type VaultState = "none" | "locked" | "unlocked";

export interface Strength {
  /** 0 (useless) … 4 (strong). Scores below 3 are refused by create/changePassphrase. */
  score: 0 | 1 | 2 | 3 | 4;
  /** Estimated guesses needed, as log10. */
  guessesLog10: number;
  /** Why the score is what it is, or "" when strong. */
  warning: string;
  /** Hints to make it stronger. */
  suggestions: string[];
  acceptable: boolean;
}

export interface Identity {
  /** did:key:z6Mk… */
  did: string;
  /** libp2p peer ID of the same Ed25519 key (12D3KooW…). */
  peerId: string;
  /** The DID document, as JSON-LD. */
  didDocument: object;
}

export interface Contact {
  id: string;
  name: string;
  /** Optional; when set it is a valid DID. */
  did: string;
  notes: string;
  created: string;   // RFC 3339
  updated: string;   // RFC 3339
}
export interface ContactInput { name: string; did?: string; notes?: string; }

export interface Note {
  id: string;
  title: string;
  body: string;
  created: string;
  updated: string;
}
export interface NoteInput { title: string; body?: string; }

export type FileKind = "photo" | "document";

export interface FileInfo {
  id: string;
  kind: FileKind;
  name: string;
  /** MIME type, as the browser reported it at upload. */
  type: string;
  size: number;
  created: string;
  /** A small JPEG preview for photos, as a Blob, or null. */
  thumbnail: Blob | null;
}

/** Progress of long work: done and total in bytes (or records). */
export type Progress = (done: number, total: number) => void;

export interface Settings {
  /** Minutes of inactivity before the vault locks itself; 0 means never, at most 10080 (a week). */
  autoLockMinutes: number;
}

export interface Counts {
  contacts: number;
  notes: number;
  photos: number;
  documents: number;
  /** Relationship credentials kept: the person's own and those contacts shared. */
  credentials: number;
}

export interface ImportSummary extends Counts {
  did: string;
}

export interface PlanetAPI {
  /** Build version of the core. */
  readonly version: string;

  /** Whether this browser holds a vault, and whether it is open. */
  state(): Promise<VaultState>;

  /** Rates a candidate passphrase (synchronous, no vault needed). */
  passphraseStrength(passphrase: string): Strength;

  /** Creates the vault and a fresh identity. Rejects weak passphrases. */
  create(passphrase: string): Promise<Identity>;
  unlock(passphrase: string): Promise<Identity>;
  /** Wipes keys from memory. */
  lock(): Promise<void>;
  identity(): Promise<Identity>;
  changePassphrase(oldPassphrase: string, newPassphrase: string): Promise<void>;

  /** Reports user activity, postponing auto-lock. Cheap; call it freely. */
  touch(): void;
  /** Called whenever the vault locks: by lock() or by auto-lock. Replaces any earlier listener. */
  onLock(listener: () => void): void;

  settings(): Promise<Settings>;
  setSettings(s: Settings): Promise<Settings>;
  counts(): Promise<Counts>;

  contacts: {
    list(): Promise<Contact[]>;
    add(c: ContactInput): Promise<Contact>;
    /** Replaces every field: an omitted did or notes becomes empty. */
    update(id: string, c: ContactInput): Promise<Contact>;
    delete(id: string): Promise<void>;
  };

  notes: {
    list(): Promise<Note[]>;
    add(n: NoteInput): Promise<Note>;
    /** Replaces every field: an omitted body becomes empty. */
    update(id: string, n: NoteInput): Promise<Note>;
    delete(id: string): Promise<void>;
  };

  files: {
    list(kind: FileKind): Promise<FileInfo[]>;
    /** Streams the file into the vault in sealed chunks; memory stays bounded. */
    add(file: File | Blob, opts: { kind: FileKind; name?: string; thumbnail?: Blob; onProgress?: Progress }): Promise<FileInfo>;
    /**
     * Decrypts the whole file into a Blob (its bytes live outside the wasm
     * heap), typed with the file's MIME type (application/octet-stream if
     * none was known).
     */
    read(id: string, onProgress?: Progress): Promise<Blob>;
    delete(id: string): Promise<void>;
  };

  /**
   * Writes the whole vault as an age-encrypted tar archive, sealed with
   * `passphrase` (docs/export-format.md). The export holds the identity's
   * key, so a weak passphrase is refused (weak_passphrase) as for the vault.
   */
  exportVault(passphrase: string, onProgress?: Progress): Promise<Blob>;
  /**
   * Restores an export into this browser. Only allowed when there is no vault
   * yet (state "none"): the imported vault is then sealed with `newPassphrase`
   * and left unlocked. A bad file changes nothing.
   */
  importVault(file: File | Blob, exportPassphrase: string, newPassphrase: string, onProgress?: Progress): Promise<ImportSummary>;

  /** An SVG QR code for text (e.g. the DID). */
  qrSVG(text: string): string;
}

declare global {
  // eslint-disable-next-line no-var
  var planet: PlanetAPI;
}
