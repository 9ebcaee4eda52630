// The API the PLANET core (Go compiled to WebAssembly) exposes to the page.
//
// wasm/ installs one object, `globalThis.planet`, once the module has started;
// it then dispatches a `planet-ready` event on `window`. Other events on
// `window` while starting:
//   - `planet-waiting`: another tab of this origin holds the vault (one tab
//     at a time may); the core starts as soon as that tab closes.
//   - `planet-failed`: the core cannot start (e.g. IndexedDB refused); the
//     event's `detail` is a PlanetError saying why.
// And while the vault is open (CustomEvents on `window`, `detail` is
// `{from?: string}`, the DID of the person the news came from, when known):
//   - `planet-chat`: a chat message may have arrived (a chat stream from a
//     contact, or a mailbox pickup); refresh the conversation shown.
//   - `planet-contacts`: a trust-network exchange was handled (someone
//     accepted an invitation, answered a connection) or the mailbox was
//     read; refresh contacts and invitations shown.
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
  | "offline"           // the tab's network node is not running (starting, or failed: message says why)
  | "unreachable"       // the other person could be reached neither directly nor through their mailbox
  | "mailbox_full"      // the other person's mailbox takes no more letters until they pick some up
  | "refused"           // the other person refused (an invitation used up, revoked, …); message says why
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
  /** The libp2p peer ID of a did:key DID (12D3KooW…); absent for other DIDs and none. */
  peerId?: string;
  /**
   * The relays (multiaddrs) they are reached at, and where their mailbox
   * is; absent for a contact typed in, whom only a direct connection reaches.
   */
  relays?: string[];
  notes: string;
  created: string;   // RFC 3339
  updated: string;   // RFC 3339
  /**
   * How the two connected on the trust network: "invited-me" (they invited
   * the person), "invited-by-me", "introduced", "relationship" (a First Person Network
   * relationship request, either side asking); absent for a contact typed in.
   */
  origin?: "invited-me" | "invited-by-me" | "introduced" | "relationship";
  /** When the two exchanged relationship credentials (RFC 3339); absent if they have not. */
  connected?: string;
  /** For origin "introduced": the DID of whoever introduced the two. */
  introducedBy?: string;
  /** Whether the person shares their relationships with this contact. */
  sharingGraph?: boolean;
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
  /** How the person calls themself to the people they connect with; "" until given. */
  name: string;
}

/** How the tab's libp2p node stands with one of its relays. */
export interface RelayStatus {
  /** The relay's multiaddr, ending in /p2p/<relay peer ID>. */
  addr: string;
  /** A reservation is held: people can reach this tab through the relay. */
  connected: boolean;
  /** When the reservation runs out (RFC 3339; renewed well before), if connected. */
  expires?: string;
  /** When the next attempt is due (RFC 3339), if not connected and it failed. */
  retry?: string;
  /** Why the last attempt failed. */
  error?: string;
}

export interface PeerConnection {
  /** The other side's peer ID. */
  peer: string;
  /** Its address as this tab dialled or accepted it. */
  addr: string;
  /** Through a relay (/p2p-circuit): limited in time and bytes. */
  relayed: boolean;
  /**
   * How it runs: "webrtc" (browser to browser, directly; made through a
   * relay), "relayed" (through a relay), "direct" (straight to a server,
   * such as the relay itself). Streams take a direct one when there is.
   */
  kind: "webrtc" | "relayed" | "direct";
}

export interface PingResult {
  /** Round-trip time in milliseconds. */
  ms: number;
  /** The kind of connection the ping ran over. */
  kind: PeerConnection["kind"];
}

export interface NetworkStatus {
  /**
   * "off" while the vault is locked; "starting" (reading the server's relay
   * addresses, building the node); "online" (the node runs; see each relay);
   * "no-relay" (the server offers no relay this browser can use: the vault
   * works, nobody can reach this tab); "failed" (error says why).
   */
  state: "off" | "starting" | "online" | "no-relay" | "failed";
  /** Why the state is "no-relay" or "failed". */
  error?: string;
  /** This tab's libp2p peer ID ("" while locked). */
  peerId: string;
  did: string;
  /**
   * Where others reach this tab, one pair per relay holding a reservation:
   * `<relay>/p2p-circuit/webrtc/p2p/<peerId>` (WebRTC, set up through the
   * relay) and `<relay>/p2p-circuit/p2p/<peerId>` (through the relay).
   */
  addresses: string[];
  relays: RelayStatus[];
  connections: PeerConnection[];
  /**
   * The tab's connection to its server's DIDComm mediator, through which
   * anyone on the First Person Network reaches the person: "off",
   * "starting", "online", "no mediator" (the server runs none) or "failed"
   * (error says why; it retries).
   */
  mediator: { state: "off" | "starting" | "online" | "no mediator" | "failed"; error?: string };
  /**
   * The DID to share once the mediator is known: the person's key as a
   * did:peer:2 whose DIDComm service names the mediator. Anyone with it can
   * write to the person (chat.send takes it too).
   */
  shareDid?: string;
}

export interface NewInvitation {
  id: string;
  /** The invitation token (a compact JWS): whoever holds it may accept. */
  token: string;
  /** A link to this page that carries the token: `<origin>/#/invite/<token>`. */
  link: string;
  note: string;
  /** RFC 3339. */
  expires: string;
  /** How many people may accept it. */
  uses: number;
}

export interface InvitationInfo {
  id: string;
  note: string;
  created: string;
  expires: string;
  usesLeft: number;
  revoked: boolean;
  /** DIDs of the people who accepted it. */
  acceptedBy: string[];
}

export interface InvitationPreview {
  /** The inviter's DID. */
  inviter: string;
  note: string;
  expires: string;
  uses: number;
}

export interface AcceptedInvitation {
  /** The inviter's DID. */
  inviter: string;
  note: string;
  /**
   * "direct": the inviter was reached and the two are now connected;
   * "mailbox": the request waits in the inviter's mailbox and the connection
   * completes when they answer (see invitations.pending()).
   */
  delivered: "direct" | "mailbox";
}

export interface PendingConnection {
  /** The invitation or introduction id. */
  ref: string;
  /** The other side's DID. */
  with: string;
  note: string;
  created: string;
  /** Why there is no answer yet: "" (not delivered), "pending" (not answered), "mailbox" (in their mailbox). */
  waiting: string;
}

/** What one stranger sent, waiting for the person to accept, decline or block it. */
export interface ChatRequest {
  from: string;
  /** In conversation order. */
  messages: ChatMessage[];
  /** When the last of them came (RFC 3339). */
  last: string;
}

export interface ChatMessage {
  id: string;
  from: string;
  to: string;
  text: string;
  /**
   * "queued" (kept, waiting in the outbox: neither the other person nor
   * their mailbox could take it yet; it goes by itself when one can),
   * "sent" (in their mailbox or on its way, not acknowledged yet),
   * "delivered" (acknowledged), "received" (from the other person).
   */
  state: "queued" | "sent" | "delivered" | "received";
  /** When the writer made it, by their clock (RFC 3339). */
  created: string;
  /**
   * How the message travelled. A received one: "direct" (on a stream over a direct
   * connection: WebRTC between browsers), "relayed" (on a stream through the relay),
   * "mailbox", or "didcomm" (a DIDComm basic message through a mediator). One the person
   * wrote: "direct" or "relayed" once acknowledged on such a stream, "mailbox" once left in
   * the reader's mailbox (it stays so when delivered later), "didcomm" if it went so; ""
   * while on its way for the first time, and for messages kept before ways were recorded.
   */
  via: "" | "direct" | "relayed" | "mailbox" | "didcomm";
}

/** A relationship credential kept in the vault, verified when listed. */
export interface KeptCredential {
  /** urn:uuid:… */
  id: string;
  /** The concrete type, e.g. "RelationshipCredential". */
  type: string;
  issuer: string;
  subject: string;
  /** How the two know each other, in the issuer's words. */
  context: string;
  introducedBy?: string;
  validFrom: string;
  /** When the vault kept it (RFC 3339). */
  received: string;
  /** The contact who shared it; absent for the person's own relationships. */
  sharedBy?: string;
  /** Whether its proof (eddsa-jcs-2022) and dates verify now. */
  verified: boolean;
  /** Why it does not verify. */
  problem?: string;
  /** The credential itself, as signed (W3C VC 2.0 JSON). */
  credential: object;
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

/** A link on the person's public profile. */
export interface PageLink {
  title: string;
  url: string;
}

/** What the person says of themselves on their page. */
export interface PageProfileInput {
  name: string;
  summary: string;
  links: PageLink[];
  /** DIDs of connected contacts the person shows on their page, by the names they gave them. */
  relationships?: string[];
}

/** A post of the person's blog, as they wrote it. */
export interface PagePost {
  slug: string;
  title: string;
  /** Markdown (docs/pages.md). */
  body: string;
  published: string;
  updated: string;
}

/** The person's public page: their did:webvh and what is published under it. */
export interface PageInfo {
  did: string;
  /** The page's address: the public page, readable by anyone. */
  url: string;
  /** The name on the server. */
  name: string;
  /** Which update key signs the log now. */
  key: number;
  /** How many versions the log has. */
  versions: number;
  profile?: PageProfileInput;
  posts: PagePost[];
}

/** Someone's page, as this PLANET read and verified it. */
export interface PageView {
  did: string;
  url: string;
  versions: number;
  profile?: PageProfileInput;
  posts: { slug: string; title: string; published: string }[];
  /** What was verified, in words, one line each. */
  checks: string[];
  /** Set when a document did not verify (checks says which). */
  problem?: boolean;
}

/** Whether a step's message reached the other side's mediator. */
export interface Delivery {
  sent: boolean;
  /** Why not, in words, when sent is false; the step is kept all the same. */
  notSent?: string;
}

/** A relationship on the First Person Network: its handshake and what came of it. */
export interface FPNRelationship {
  id: string;
  /** "requester": the person asked; "responder": they asked the person. */
  role: "requester" | "responder";
  state: "requested" | "pending" | "accepted" | "established" | "rejected" | "declined";
  /** Their DID (the one they share). */
  peer: string;
  /** The DID they use in this relationship, once known. */
  peerDid?: string;
  /** The name they gave, if any. */
  name: string;
  /** The note of the request (or the reason of a rejection). */
  reason: string;
  /** The person's own relationship DID, once made. */
  did?: string;
  created: string;
  updated: string;
}

/** A relationship credential asked for, issued or declined. */
export interface FPNCredentialExchange {
  id: string;
  /** The relationship's id. */
  relationship: string;
  /** "asked-by-me": the person asked and they issue; "asked-of-me": the other way. */
  direction: "asked-by-me" | "asked-of-me";
  state: "requested" | "issued" | "rejected";
  reason: string;
  credential?: {
    id: string;
    issuer: string;
    subject: string;
    validFrom: string;
    issuerScope: string;
    /** Verified now, as the page shows it; problem says why not. */
    verified: boolean;
    problem?: string;
    digestMultibase?: string;
  };
  created: string;
  updated: string;
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
  /** Members left out keep their values. */
  setSettings(s: Partial<Settings>): Promise<Settings>;
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

  /** The tab's libp2p node, which runs while the vault is open. */
  network: {
    status(): Promise<NetworkStatus>;
    /**
     * Reaches the peer at a multiaddr ending in /p2p/<peer> and pings it
     * once. A `…/p2p-circuit/webrtc/p2p/<peer>` address connects through
     * the relay and then directly by WebRTC. "unreachable" if it cannot.
     */
    ping(addr: string): Promise<PingResult>;
  };

  invitations: {
    /**
     * Makes an invitation, reachable through the node's relays. `hours`
     * defaults to a week (at most 366 days), `uses` to one (at most 1000).
     */
    create(opts?: { note?: string; hours?: number; uses?: number }): Promise<NewInvitation>;
    /** The person's invitations, newest first. */
    list(): Promise<InvitationInfo[]>;
    /** Withdraws an invitation: nobody can accept it any more. */
    revoke(id: string): Promise<void>;
    /** Reads an invitation (its link or token) without accepting it; "invalid" if it is broken, forged or expired. */
    read(linkOrToken: string): Promise<InvitationPreview>;
    /**
     * Accepts an invitation (its link or token): issues the inviter a
     * relationship credential and sends it, directly or into their mailbox.
     * Needs the network ("offline" otherwise); a refusal is "refused".
     */
    accept(linkOrToken: string): Promise<AcceptedInvitation>;
    /** Connections asked for and not answered yet. */
    pending(): Promise<PendingConnection[]>;
  };

  chat: {
    /**
     * Sends a message: directly when the other person is reachable (state
     * "delivered"), otherwise sealed into their mailbox (state "sent").
     * When neither takes it, it is kept all the same (state "queued") and
     * `waiting` says why; the tab sends it when it can. To a DID other than
     * a did:key (someone on the First Person Network), it goes as a DIDComm
     * basic message through their mediator (state "sent"); if their server
     * does not take it, `waiting` is "not_delivered" and it is not retried.
     */
    send(did: string, text: string): Promise<ChatMessage & { waiting?: { code: "unreachable" | "mailbox_full" | "not_delivered"; message: string } }>;
    /** The messages with did, in conversation order. */
    conversation(did: string): Promise<ChatMessage[]>;
    /**
     * What strangers (DIDs not among the contacts, never written to) sent:
     * one request per stranger, the latest first. They are in no
     * conversation until accepted; at most 20 messages per stranger and
     * 200 in all wait, the rest are dropped. The page hears of new ones as
     * of any chat message (planet-chat).
     */
    requests(): Promise<ChatRequest[]>;
    /** Accepts from's request: they become a contact called name (their short DID if blank), their messages a conversation. */
    acceptRequest(from: string, name?: string): Promise<void>;
    /** Deletes from's request; they may write again. */
    declineRequest(from: string): Promise<void>;
    /** Deletes from's request, if any, and drops whatever from sends from now on. */
    block(from: string): Promise<void>;
  };

  credentials: {
    /** Every relationship credential kept: the person's own and those contacts shared. */
    list(): Promise<KeptCredential[]>;
  };

  profile: {
    /** Sets the name the person gives to the people they connect with. */
    setName(name: string): Promise<Settings>;
  };

  /**
   * Introductions: the person introduces two of their connected contacts,
   * and answers introductions others made. Each call delivers its frames
   * directly or into the recipients' mailboxes, and needs the network
   * ("offline" otherwise).
   */
  introductions: {
    /** Introduces a to b (both connected contacts) with a note on why they should meet. */
    introduce(a: string, b: string, note?: string): Promise<MadeIntroduction>;
    /** The introductions received and made, newest first. */
    list(): Promise<{ received: ReceivedIntroduction[]; made: MadeIntroduction[] }>;
    /**
     * Accepts or declines a pending introduction. The introducer hears of
     * it; accepting also asks the other person to connect, which completes
     * once they have accepted too (state "connected").
     */
    answer(id: string, accept: boolean): Promise<ReceivedIntroduction>;
  };

  /** Sharing the person's relationships with a contact (opt-in, revocable). */
  sharing: {
    /** Turns sharing with the connected contact did on or off and tells them. */
    set(did: string, on: boolean): Promise<void>;
  };

  /**
   * Relationships on the First Person Network (docs/protocols/openvtc.md): "Connect" by
   * someone's DID with a note, their requests, and the relationship credentials (VRCs) the
   * two ask of each other. Each step that sends resolves with its new state and whether its
   * message reached the other side's mediator (`sent`, and `notSent` saying why not).
   */
  relationships: {
    list(): Promise<{ relationships: FPNRelationship[]; credentials: FPNCredentialExchange[] }>;
    connect(did: string, note?: string): Promise<FPNRelationship & Delivery>;
    accept(id: string): Promise<FPNRelationship & Delivery>;
    decline(id: string, reason?: string): Promise<FPNRelationship & Delivery>;
    /** Asks the other side of an established relationship for a credential. */
    requestCredential(id: string, reason?: string): Promise<FPNCredentialExchange & Delivery>;
    issueCredential(id: string): Promise<FPNCredentialExchange & Delivery>;
    declineCredential(id: string, reason?: string): Promise<FPNCredentialExchange & Delivery>;
  };

  /**
   * The person's public page (docs/pages.md, docs/pages-hosting.md): a did:webvh made and
   * signed here, hosted by the person's server, with a signed profile and blog. Every change is
   * published at once; a change the server refuses is not kept.
   */
  page: {
    /**
     * Reads someone's page by their did:webvh or the page's address and verifies it here: the
     * identifier's log and each document against the keys in force when it was signed.
     */
    view(didOrAddress: string): Promise<PageView>;
    /** The page, or null when the person has none yet. */
    get(): Promise<PageInfo | null>;
    /** Makes the DID under name on this server and publishes it. */
    create(name: string): Promise<PageInfo>;
    /** Reveals the next update key and commits to a new one. */
    rotateKey(): Promise<PageInfo>;
    saveProfile(p: PageProfileInput): Promise<PageInfo>;
    /** A new post (no slug) or a change to one (its slug). */
    savePost(p: { slug?: string; title: string; body: string }): Promise<PageInfo>;
    deletePost(slug: string): Promise<PageInfo>;
    /**
     * The HTML the post page will show for a body written in Markdown, rendered by the person's
     * server with the public page's own renderer (core/page/markdown): raw HTML shown as text,
     * links only to http, https and mailto. Safe to insert as markup for that reason alone.
     */
    preview(markdown: string): Promise<string>;
    /** A JPEG, PNG or WebP of at most 512 KiB becomes the profile's picture. */
    savePicture(bytes: Uint8Array, type: string): Promise<PageInfo>;
    /**
     * Takes the DID to the PLANET server at that address (did:webvh portability): the log
     * names the new place, everything is published there, and the old server redirects.
     */
    move(server: string): Promise<PageInfo>;
    /** The ids of the relationship credentials shown on the page (whois.vp). */
    whois(): Promise<{ credentials: string[] }>;
    /**
     * Shows these relationship credentials on the page, by id: the person's own kept ones
     * (credentials.list() without sharedBy) and issued VRCs (relationships.list()). None takes
     * the presentation down.
     */
    saveWhois(ids: string[]): Promise<PageInfo>;
  };

  /** The trust graph made by the credentials kept: the person's own and those shared with them. */
  graph: {
    get(): Promise<TrustGraphView>;
    /** The chains of relationships (at most three hops) from the person to did, each told in words. */
    paths(did: string): Promise<{ paths: TrustPath[] }>;
    /** The people you are connected to, with how you know them; only those whose relationship's context holds `context` (any case), if given. */
    connections(context?: string): Promise<{ did: string; name: string; context: string }[]>;
    /** The DIDs of the people connected both to the person and to did. */
    mutual(did: string): Promise<string[]>;
  };

  /** An SVG QR code for text (e.g. the DID). */
  qrSVG(text: string): string;
}

/** The state of one side of an introduction. */
export type IntroductionState = "pending" | "accepted" | "declined" | "connected";

export interface ReceivedIntroduction {
  id: string;
  /** The DID of whoever made the introduction, and the name the person knows them by. */
  introducer: string;
  introducerName: string;
  /** The DID of the person introduced, and their name (as a contact, or as the introducer gave it). */
  other: string;
  otherName: string;
  note: string;
  /** "other-declined": the person accepted but the other declined. */
  state: IntroductionState | "other-declined";
  received: string;   // RFC 3339
  expires: string;    // RFC 3339
}

export interface MadeIntroduction {
  id: string;
  a: string;
  b: string;
  aName: string;
  bName: string;
  note: string;
  stateA: IntroductionState;
  stateB: IntroductionState;
  created: string;    // RFC 3339
}

export interface TrustGraphView {
  /** The person's own DID. */
  me: string;
  /** name: the contact's name, "You", or a shortened DID for someone the person has no name for. */
  nodes: { did: string; name: string; me: boolean; contact: boolean }[];
  /**
   * One relationship each. introducedBy: who introduced the two; sharedBy:
   * the contact who shared it (absent for the person's own); oneSided: only
   * one of the two has signed for it.
   */
  edges: { a: string; b: string; context: string; introducedBy?: string; sharedBy?: string; oneSided: boolean }[];
}

export interface TrustPath {
  /** The people along the path, the person first. */
  dids: string[];
  /** The path in words, with the names the person knows people by. */
  explain: string;
}

declare global {
  // eslint-disable-next-line no-var
  var planet: PlanetAPI;
}
