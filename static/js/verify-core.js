/* A1W1 verifier in the browser: the same answers as verifier/verify.py (see verifier/FORMAT.md).
 *
 * Plain ES2020, no dependencies, no eval (the CSP allows neither). ECDSA P-256 through WebCrypto.
 *
 *   A1W.verifyText(text, keysDoc, revokedDoc, at) -> Promise<{status, kid, claims}>
 *
 * `keysDoc` and `revokedDoc` are the keys.json and revoked.json documents (parsed JSON), `at` an
 * ISO 8601 time, a Date or milliseconds (default: now). The promise resolves for every text; it
 * rejects only when a list document is malformed (FORMAT.md §5-6: rejected as a whole).
 * `claims` has the shape of CertificateClaims.to_json(), and is null unless the signature holds.
 *
 * For repeated checks: A1W.loadKeys(doc) -> Promise<KeySet>, A1W.loadRevoked(doc) -> RevocationSet,
 * A1W.verify(text, keySet, revocationSet, at) -> Promise<result>.
 */
(function (global) {
  "use strict";

  const STATUSES = Object.freeze([
    "valid",
    "not_yet_valid",
    "expired",
    "revoked",
    "key_revoked",
    "unknown_key",
    "bad_signature",
    "kind_mismatch",
    "malformed",
  ]);
  const FORMAT = "A1W1";
  const CLOCK_SKEW_SECONDS = 60; // tolerated at both ends of the validity window, and no more
  const MAX_TEXT_LENGTH = 4296; // the most a QR code holds (version 40-L, alphanumeric)
  const KID_BYTES = 8;
  const CERTIFICATE_ID_BYTES = 10;
  const SIGNATURE_BYTES = 64;
  // The one protected header A1W1 allows: a2 01 26 04 48 + kid, i.e. {1: -7, 4: h'<8 bytes>'}.
  const PROTECTED_PREFIX = [0xa2, 0x01, 0x26, 0x04, 0x48];
  const PROTECTED_LENGTH = PROTECTED_PREFIX.length + KID_BYTES;
  const KEY_STATES = ["published", "active", "retired"];

  // CWT claims and the private claims under -70001 (FORMAT.md §3).
  const CWT_ISS = 1;
  const CWT_EXP = 4;
  const CWT_NBF = 5;
  const PRIVATE_CLAIMS = -70001;
  const CWT_KEY_ORDER = [CWT_ISS, CWT_EXP, CWT_NBF, PRIVATE_CLAIMS];
  const P = {
    CERTIFICATE_ID: 0,
    DOCUMENT_TYPE: 1,
    KIND: 2,
    LEGISLATION_STATE: 3,
    WORK_STATES: 4,
    FAMILY_NAME: 5,
    GIVEN_NAMES: 6,
    FAMILY_NAME_ASCII: 7,
    GIVEN_NAMES_ASCII: 8,
    BIRTH_DATE: 9,
    VALID_FROM: 10,
    VALID_TO: 11,
    ISSUING_INSTITUTION: 12,
  };
  const REQUIRED_PRIVATE = [0, 1, 2, 3, 4, 5, 6, 9, 10, 11];
  const LAST_PRIVATE = P.ISSUING_INSTITUTION;
  const DOCUMENT_TYPES = ["A1", "CoC"];
  const KINDS = ["provisional", "official"];
  // A key's document class is one of KINDS; keys.json entries without one are provisional.
  const DEFAULT_DOCUMENT_CLASS = "provisional";
  const DAY = 86400;
  const NBF_OFFSET = -14 * 3600; // valid_from 00:00 at UTC+14
  const EXP_OFFSET = DAY + 12 * 3600; // valid_to 24:00 at UTC-12
  const MIN_DAYS = -25567; // 1900-01-01
  const MAX_DAYS = 84005; // 2199-12-31
  const MAX_WORK_STATES = 32;
  const MAX_NAME_LENGTH = 100;
  const MAX_ISSUER_LENGTH = 32;
  const MAX_INSTITUTION_LENGTH = 100;

  const COUNTRY_RE = /^[A-Z]{2}$/;
  const COUNTRIES_RE = /^(?:[A-Z]{2})+$/;
  const ASCII_RE = /^[\x00-\x7f]*$/;
  const KID_TEXT_RE = /^[0-9a-f]{16}$/;
  const UTC_TEXT_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
  const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

  const B32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

  const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const textEncoder = new TextEncoder();

  /** A token that is not a well-formed A1W1 envelope; kid is set when it could be read. */
  class MalformedToken extends Error {
    constructor(reason, kid) {
      super(reason);
      this.name = "MalformedToken";
      this.kid = kid || null;
    }
  }

  function fail(reason) {
    throw new MalformedToken(reason);
  }

  function isAscii(text) {
    return ASCII_RE.test(text);
  }

  function hex(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Python's str.isprintable(): false for Unicode general categories Cc, Cf, Cs, Co, Cn, Zl, Zp
  // and Zs, except the ASCII space. The ranges come from the reference verifier's Python (3.11,
  // Unicode 14.0.0) rather than the browser's own tables, whose newer Unicode version assigns
  // characters Python still counts as unassigned: the same names pass or fail on both sides.
  // Each pair of base-36 numbers is (printable run before the range, range length - 1).
  // tests/browser/test_verify_scan_browser.py compares this with Python over every code point;
  // to regenerate: the non-printable runs of chr(0)..chr(0x10FFFF) as (gap since the previous
  // run, run length - 1) in base 36, space-separated.
  const NON_PRINTABLE_DELTAS =
    "0 v 2n x c 0 ju 1 6 3 7 0 1 0 k 0 b1 0 12 1 1e 1 3 0 1j 7 r 3 6 g m 0 5c 0 1c 1 1n 1 2t d 1n" +
    " 1 1d 1 f 0 s 1 1 0 b 4 v 8 22 0 4h 0 8 1 2 1 m 0 7 0 1 2 4 1 9 1 2 1 4 7 1 3 2 0 5 1 p 1 3 " +
    "0 6 3 2 1 m 0 7 0 2 0 2 0 2 1 1 0 5 3 2 1 3 2 1 6 4 0 1 6 h 9 3 0 9 0 3 0 m 0 7 0 2 0 5 1 a " +
    "0 3 0 3 1 1 e 4 1 c 6 7 0 3 0 8 1 2 1 m 0 7 0 2 0 5 1 9 1 2 1 3 6 3 3 2 0 5 1 i 9 2 0 6 2 3 " +
    "0 4 2 2 0 1 0 2 2 2 2 3 2 c 3 5 2 3 0 4 1 1 5 1 d l 4 d 0 3 0 n 0 g 1 9 0 3 0 4 6 2 0 3 1 1 " +
    "1 4 1 a 6 m 0 3 0 n 0 a 0 5 1 9 0 3 0 4 6 2 5 2 0 4 1 a 0 2 c d 0 3 0 1f 0 3 0 6 3 g 1 q 0 3" +
    " 0 i 2 o 0 9 0 1 1 7 2 1 3 6 0 1 0 8 5 a 1 3 b 1m 3 t 10 2 0 1 0 5 0 o 0 1 0 n 1 5 0 1 0 6 1" +
    " a 1 4 v 20 0 10 3 13 0 10 0 f 0 d 10 5i 0 1 4 1 1 ah 0 4 1 7 0 1 0 4 1 15 0 4 1 x 0 4 1 7 0" +
    " 1 0 4 1 f 0 1l 0 4 1 1v 1 w 2 q 5 2e 1 6 1 hs 0 s 2 2h 6 m 8 o 8 k b d 0 3 0 2 b 2m 1 a 5 a" +
    " 5 e 0 b 5 2h 6 17 4 1y 9 v 0 c 3 c 3 1 2 16 1 5 a 18 3 q 5 b 2 1q 1 1t 0 t 1 b 5 a 5 e 1 v " +
    "1c 25 2 1b 0 38 7 1o 2 f 2 1o 6 17 1 b 7 17 4 eu 1 6 1 12 1 6 1 8 0 1 0 1 0 1 0 v 1 1h 0 f 0" +
    " e 1 6 0 j 1 3 0 9 g o 7 1b g 2 1 r 0 d 2 x e x e 3w 3 if o b k 1ec 1 w 0 9p 4 19 0 1 4 1 1 " +
    "1k 6 2 d o 8 7 0 7 0 7 0 7 0 7 0 7 0 7 0 7 0 3i x q 0 2h b 5y p c 4 1r 0 2e 1 2v 4 17 0 2m 0" +
    " 2c b 1b 0 mlp 2 1j 8 9o j 54 7 5n 4 2 0 1 0 5 n 1n 2 a 5 1k 7 1y 7 c 5 38 a u 2 26 0 b 3 x " +
    "0 1j 8 e 1 a 1 2v n s 9 6 1 6 1 6 8 7 0 7 0 1o 3 3i 1 a 5 8mc b n 3 1d 6ir a6 1 2y 11 7 b 5 " +
    "4 q 0 5 0 1 0 2 0 2 0 3h f cd 1 1i 6 1 v 16 5 1f 0 j 0 4 3 5 0 3r 3 5a 2 6 1 6 1 6 1 3 2 7 0" +
    " 7 c 2 1 c 0 q 0 j 0 2 0 f 1 e x 3f 4 3 3 19 2 2g 0 d 2 1 1a 1a 3l t 2 1d e s 3 10 8 u 4 17 " +
    "4 u 0 11 3 e 15 4e 1 a 5 10 3 10 3 14 7 1g a c 0 f 0 7 0 2 0 b 0 f 0 7 0 2 1u 8n 8 m 9 8 n 6" +
    " 0 16 0 9 1w 6 1 1 0 18 0 2 2 1 1 n 0 20 7 9 1b j 0 2 4 x 2 r 4 1 1r 1k 3 k 1 1e 0 2 4 8 0 3" +
    " 0 t 1 3 3 a 6 9 6 1s v 13 3 c 8 1i 2 t 1 r 4 q 6 4 b 7 27 21 1i 1f c 1f 6 1a 7 a 85 v 0 16 " +
    "0 3 1 2 25 14 7 16 l q 11 s j n 8 26 3 10 8 1q 0 5 c p 6 a 5 1h 0 i 7 13 8 2o 0 k a i 0 18 1" +
    "s 7 0 1 0 4 0 f 0 b 5 1n 4 a 5 4 0 8 1 2 1 m 0 7 0 2 0 5 0 a 1 2 1 3 1 1 5 1 4 7 1 7 2 5 3u " +
    "2k 0 5 t 20 7 a 4l 1i 1 12 x 1x a a 5 d i 1m 5 a 1h r 1 f 3 n 54 1o 2r 2b b 8 1 1 1 8 0 2 0 " +
    "u 0 2 1 c 8 a 1x 8 1 1a 1 b q 20 7 2b c 21 7a 9 0 19 0 e 9 t 2 w 1 m 0 e 20 7 0 2 0 18 2 1 0" +
    " 2 0 9 7 a 5 6 0 2 0 11 0 2 0 6 6 a 8l p 52 1 e 1e c pn 2t 33 0 5 a 5g 217 2r c tr 34g g7 6n" +
    "s ft 6 v 0 a 3 29 0 a 5 u 1 6 9 1y 9 a 0 7 0 l 4 j j3 2j 2s 23 3 1l 6 h 1r 5 a 2 d 4qg 7 ye " +
    "15 9 6w6 4 0 7 0 2 0 83 18 3 g 4 7 b0 1s3 2z 4 d 2 9 6 a 1 4 3mn 1a 1 n 8 38 1n 6u 9 13 1 22" +
    " 7 34 k 1y 49 k b 2f 8 p 3q 2d 0 1z 0 2 1 1 1 2 1 4 0 c 0 1 0 7 0 1t 0 4 1 8 0 7 0 s 0 4 0 5" +
    " 0 1 2 7 0 9g 1 84 1 ji e 5 0 f un v 68 7 0 h 1 7 0 2 0 5 5w 19 2 e 1 a 3 2 8v v g 1m 4 1 yn" +
    " 7 0 4 0 2 0 f 0 5h 1 g 14 24 3 a 3 2 ls 1w 23 1p 5d 4 0 r 0 2 0 1 1 1 0 a 0 4 0 1 0 1 5 1 3" +
    " 1 0 1 0 1 0 3 0 2 0 1 1 1 0 1 0 1 0 1 0 1 0 2 0 1 1 4 0 7 0 4 0 4 0 1 0 a 0 h 4 3 0 5 0 h 1" +
    "f 2 7h 18 3 2s b f 1 f 0 f 0 11 9 4u 1j t c 18 3 9 6 2 d 6 49 rc 4 g 2 d 2 38 b 2h 6 c 3 1 e" +
    " c 3 1k 7 a 5 14 7 u 1 2 25 9g b e 1 5 2 5 2 7 8 t 2 b 4 6 9 a 5 8 7 7 8 43 0 1j 10 a sl wyo" +
    " v 37d 6 66 1 4g2 d 5rl 2e6 f2 15t 3t7 fcms 6o 47bj";
  const NON_PRINTABLE = (function () {
    const parts = NON_PRINTABLE_DELTAS.split(" ");
    const starts = new Int32Array(parts.length / 2);
    const ends = new Int32Array(parts.length / 2);
    let previous = -1;
    for (let i = 0; i < parts.length; i += 2) {
      const start = previous + 1 + parseInt(parts[i], 36);
      const end = start + parseInt(parts[i + 1], 36);
      starts[i / 2] = start;
      ends[i / 2] = end;
      previous = end;
    }
    return { starts, ends };
  })();

  function isPrintableCodePoint(cp) {
    const { starts, ends } = NON_PRINTABLE;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cp < starts[mid]) hi = mid - 1;
      else if (cp > ends[mid]) lo = mid + 1;
      else return false;
    }
    return true;
  }

  /** The number of code points of a string, or -1 when it is not printable (Python semantics). */
  function printableLength(text) {
    let n = 0;
    for (const ch of text) {
      if (!isPrintableCodePoint(ch.codePointAt(0))) return -1;
      n++;
    }
    return n;
  }

  // ---------------------------------------------------------------------------------------------
  // QR text and Base32 (FORMAT.md §1)

  const B32_VALUE = (function () {
    const table = new Int8Array(128).fill(-1);
    for (let i = 0; i < B32_ALPHABET.length; i++) table[B32_ALPHABET.charCodeAt(i)] = i;
    return table;
  })();

  /** Upper-case unpadded RFC 4648 Base32, canonical only (one accepted text per byte string). */
  function b32decodeCanonical(text) {
    if (!text || !isAscii(text)) fail("not Base32");
    const n = text.length;
    const spareBits = (5 * n) % 8;
    if (spareBits >= 5) fail("impossible Base32 length"); // lengths 1, 3, 6 (mod 8)
    const out = new Uint8Array(Math.floor((5 * n) / 8));
    let acc = 0;
    let bits = 0;
    let j = 0;
    for (let i = 0; i < n; i++) {
      const value = B32_VALUE[text.charCodeAt(i)];
      if (value < 0) fail("not Base32");
      acc = (acc << 5) | value;
      bits += 5;
      if (bits >= 8) {
        bits -= 8;
        out[j++] = (acc >> bits) & 0xff;
        acc &= (1 << bits) - 1;
      }
    }
    if (acc !== 0) fail("non-zero trailing bits");
    return out;
  }

  /** The COSE bytes from a QR text: full URL (/V/ or /v/, any case) or the Base32 part alone. */
  function tokenBytes(text) {
    if (typeof text !== "string" || text.length > MAX_TEXT_LENGTH || !isAscii(text)) {
      fail("not an A1W1 text");
    }
    const cut = Math.max(text.lastIndexOf("/V/"), text.lastIndexOf("/v/"));
    const token = cut >= 0 ? text.slice(cut + 3) : text;
    return b32decodeCanonical(token.toUpperCase());
  }

  // ---------------------------------------------------------------------------------------------
  // COSE_Sign1 envelope (FORMAT.md §2): read byte for byte, the one encoding allowed.

  /** [start, end) of the byte string whose head is at pos; its head must be shortest. */
  function readBstr(raw, pos) {
    if (pos >= raw.length) fail("truncated");
    const initial = raw[pos];
    let length;
    let start;
    if (initial >= 0x40 && initial <= 0x57) {
      length = initial - 0x40;
      start = pos + 1;
    } else if (initial === 0x58 && pos + 2 <= raw.length && raw[pos + 1] >= 24) {
      length = raw[pos + 1];
      start = pos + 2;
    } else if (initial === 0x59 && pos + 3 <= raw.length && raw[pos + 1] > 0) {
      length = (raw[pos + 1] << 8) | raw[pos + 2];
      start = pos + 3;
    } else {
      fail("expected a byte string with a shortest-form length");
    }
    const end = start + length;
    if (end > raw.length) fail("truncated");
    return [start, end];
  }

  function parseEnvelope(raw) {
    if (raw.length < 2 || raw[0] !== 0xd2 || raw[1] !== 0x84) {
      fail("not a tag-18 COSE_Sign1 array of 4");
    }
    const [pStart, pEnd] = readBstr(raw, 2);
    if (raw[pEnd] !== 0xa0) fail("the unprotected header must be an empty map");
    const [bStart, bEnd] = readBstr(raw, pEnd + 1);
    if (raw[bEnd] !== 0x58 || raw[bEnd + 1] !== 0x40) fail("the ES256 signature is a byte string of 64");
    if (raw.length !== bEnd + 2 + SIGNATURE_BYTES) {
      fail("truncated or trailing bytes after the COSE_Sign1 item");
    }
    const protectedHeader = raw.subarray(pStart, pEnd);
    let shapeOk = protectedHeader.length === PROTECTED_LENGTH;
    for (let i = 0; shapeOk && i < PROTECTED_PREFIX.length; i++) {
      shapeOk = protectedHeader[i] === PROTECTED_PREFIX[i];
    }
    if (!shapeOk) {
      throw new MalformedToken(
        "the protected header must be exactly {1: -7, 4: kid}",
        protectedKid(protectedHeader)
      );
    }
    return {
      kid: protectedHeader.subarray(PROTECTED_PREFIX.length),
      protectedHeader,
      payload: raw.subarray(bStart, bEnd),
      signature: raw.subarray(bEnd + 2),
    };
  }

  /** ["Signature1", protected, h'', payload] as CBOR: the bytes ES256 signs. */
  function bstrHead(length) {
    if (length < 24) return [0x40 | length];
    if (length < 0x100) return [0x58, length];
    return [0x59, length >> 8, length & 0xff];
  }

  function sigStructure(protectedHeader, payload) {
    const prefix = [0x84, 0x6a, ...textEncoder.encode("Signature1")];
    const parts = [prefix, bstrHead(protectedHeader.length), protectedHeader, [0x40],
      bstrHead(payload.length), payload];
    let size = 0;
    for (const part of parts) size += part.length;
    const out = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Which kid a refused protected header names (FORMAT.md §4: diagnostics only, never used to
  // accept a token). A lenient CBOR reading like the reference's cbor2: non-shortest heads are
  // read, indefinite lengths, duplicate keys and more than 4 levels of nesting are not. Tags
  // other than bignums (2, 3) and the self-describe tag are not modelled: no kid is reported.

  const OTHER = { t: "other" };

  function genericDecode(data) {
    let pos = 0;

    function need(n) {
      if (pos + n > data.length) throw new Error("truncated");
    }

    function argument(ai) {
      if (ai < 24) return BigInt(ai);
      const size = { 24: 1, 25: 2, 26: 4, 27: 8 }[ai];
      if (!size) throw new Error("no indefinite lengths, no reserved values");
      need(size);
      let value = 0n;
      for (let i = 0; i < size; i++) value = (value << 8n) | BigInt(data[pos++]);
      return value;
    }

    function length(ai) {
      const n = argument(ai);
      if (n > BigInt(data.length)) throw new Error("truncated");
      return Number(n);
    }

    function keyIdentity(key) {
      // Python compares keys with ==: 1 == 1.0 == True.
      if (key.t === "int") return "n" + key.v.toString();
      if (key.t === "bool") return "n" + (key.v ? "1" : "0");
      if (key.t === "float") return Number.isInteger(key.v) ? "n" + BigInt(key.v).toString() : "f" + key.v;
      if (key.t === "text") return "s" + key.v;
      if (key.t === "bytes") return "b" + hex(key.v);
      if (key.t === "null" || key.t === "undefined") return key.t;
      return null; // containers, tags and the rest: not compared
    }

    function item(depth) {
      if (depth > 4) throw new Error("nesting too deep");
      need(1);
      const initial = data[pos++];
      const major = initial >> 5;
      const ai = initial & 31;
      switch (major) {
        case 0:
          return { t: "int", v: argument(ai) };
        case 1:
          return { t: "int", v: -1n - argument(ai) };
        case 2: {
          const n = length(ai);
          need(n);
          const v = data.slice(pos, pos + n);
          pos += n;
          return { t: "bytes", v };
        }
        case 3: {
          const n = length(ai);
          need(n);
          const v = textDecoder.decode(data.subarray(pos, pos + n));
          pos += n;
          return { t: "text", v };
        }
        case 4: {
          const n = length(ai);
          for (let i = 0; i < n; i++) item(depth + 1);
          return OTHER;
        }
        case 5: {
          const n = length(ai);
          const entries = [];
          const seen = new Set();
          for (let i = 0; i < n; i++) {
            const key = item(depth + 1);
            const value = item(depth + 1);
            const identity = keyIdentity(key);
            if (identity !== null) {
              if (seen.has(identity)) throw new Error("duplicate key");
              seen.add(identity);
            }
            entries.push([key, value]);
          }
          return { t: "map", entries };
        }
        case 6: {
          const tag = argument(ai);
          const content = item(depth + 1);
          if (tag === 55799n) return content;
          if ((tag === 2n || tag === 3n) && content.t === "bytes") {
            let v = 0n;
            for (const b of content.v) v = (v << 8n) | BigInt(b);
            return { t: "int", v: tag === 2n ? v : -1n - v };
          }
          throw new Error("tag not modelled");
        }
        default: {
          if (ai === 20 || ai === 21) return { t: "bool", v: ai === 21 };
          if (ai === 22) return { t: "null" };
          if (ai === 23) return { t: "undefined" };
          if (ai < 20) return OTHER; // simple value
          if (ai === 24) {
            need(1);
            if (data[pos++] < 32) throw new Error("invalid simple value");
            return OTHER;
          }
          if (ai >= 25 && ai <= 27) {
            const size = { 25: 2, 26: 4, 27: 8 }[ai];
            need(size);
            const view = new DataView(data.buffer, data.byteOffset + pos, size);
            pos += size;
            let v;
            if (size === 2) v = halfToNumber(view.getUint16(0));
            else if (size === 4) v = view.getFloat32(0);
            else v = view.getFloat64(0);
            return { t: "float", v };
          }
          throw new Error("reserved or break");
        }
      }
    }

    const result = item(0);
    if (pos !== data.length) throw new Error("trailing bytes");
    return result;
  }

  function halfToNumber(h) {
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    const sign = h & 0x8000 ? -1 : 1;
    if (exponent === 0) return sign * mantissa * 2 ** -24;
    if (exponent === 31) return mantissa ? NaN : sign * Infinity;
    return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }

  function protectedKid(protectedHeader) {
    try {
      const header = genericDecode(protectedHeader);
      if (header.t !== "map") return null;
      let kid = null;
      for (const [key, value] of header.entries) {
        if (key.t !== "int") return null;
        if (key.v === 4n) kid = value;
      }
      return kid && kid.t === "bytes" && kid.v.length === KID_BYTES ? kid.v : null;
    } catch (error) {
      return null;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Payload (FORMAT.md §3): a strict, minimal CBOR reader. Only the deterministic encoding of a
  // map of ints, texts, byte strings and one nested map is read; anything else is malformed,
  // which is exactly what the reference accepts (it re-checks the encoded length).

  function decodePayloadCbor(payload) {
    let pos = 0;

    function head() {
      if (pos >= payload.length) fail("payload truncated");
      const initial = payload[pos++];
      const major = initial >> 5;
      const ai = initial & 31;
      let value;
      if (ai < 24) {
        value = ai;
      } else if (ai <= 27) {
        const size = 1 << (ai - 24);
        if (pos + size > payload.length) fail("payload truncated");
        value = 0;
        for (let i = 0; i < size; i++) value = value * 256 + payload[pos++];
        const minimum = { 24: 24, 25: 0x100, 26: 0x10000, 27: 0x100000000 }[ai];
        if (value < minimum) fail("payload: not the shortest form");
        if (!Number.isSafeInteger(value)) fail("payload: integer out of range");
      } else {
        fail("payload: indefinite length or reserved value");
      }
      return { major, value };
    }

    function item(depth) {
      const { major, value } = head();
      switch (major) {
        case 0:
          return { t: "int", v: value };
        case 1:
          return { t: "int", v: -1 - value };
        case 2:
        case 3: {
          if (pos + value > payload.length) fail("payload truncated");
          const bytes = payload.subarray(pos, pos + value);
          pos += value;
          if (major === 2) return { t: "bytes", v: bytes.slice() };
          let text;
          try {
            text = textDecoder.decode(bytes);
          } catch (error) {
            fail("payload: text is not UTF-8");
          }
          return { t: "text", v: text };
        }
        case 5: {
          if (depth >= 2) fail("payload: nested too deep");
          const entries = [];
          for (let i = 0; i < value; i++) {
            const key = item(depth + 1);
            entries.push([key, item(depth + 1)]);
          }
          return { t: "map", entries };
        }
        default:
          fail("payload: unexpected CBOR type");
      }
    }

    const cwt = item(0);
    if (pos !== payload.length) fail("payload: trailing bytes");
    return cwt;
  }

  function checkText(value, maxLength) {
    if (!value || value.t !== "text") fail("text expected");
    const text = value.v;
    const length = printableLength(text);
    // Printable already excludes every white space but the ASCII space (Python's strip()).
    if (length < 1 || length > maxLength) fail("1 to " + maxLength + " printable characters");
    if (text[0] === " " || text[text.length - 1] === " ") fail("no surrounding spaces");
    return text;
  }

  function checkAsciiVariant(value, original) {
    if (value === undefined) return null;
    const text = checkText(value, MAX_NAME_LENGTH);
    if (!isAscii(text)) fail("ASCII only");
    if (text === original) fail("present only when it differs from the name on the ID");
    return text;
  }

  function intValue(value) {
    if (!value || value.t !== "int") fail("integer expected");
    return value.v;
  }

  function checkDays(value) {
    const days = intValue(value);
    if (days < MIN_DAYS || days > MAX_DAYS) fail("date out of range");
    return days;
  }

  function isoDate(days) {
    return new Date(days * DAY * 1000).toISOString().slice(0, 10);
  }

  function certificateIdText(bytes) {
    // 80 bits = 16 Crockford characters of 5 bits, most significant first.
    let out = "";
    let acc = 0;
    let bits = 0;
    for (const b of bytes) {
      acc = (acc << 8) | b;
      bits += 8;
      while (bits >= 5) {
        bits -= 5;
        out += CROCKFORD[(acc >> bits) & 31];
        acc &= (1 << bits) - 1;
      }
    }
    return out;
  }

  /** {claims (to_json shape), nbf, exp, certificateId} or MalformedToken. */
  function decodePayload(payload) {
    const cwt = decodePayloadCbor(payload);
    if (cwt.t !== "map" || cwt.entries.length !== CWT_KEY_ORDER.length) {
      fail("payload: a map with keys 1, 4, 5, -70001 in that order");
    }
    const claims = {};
    cwt.entries.forEach(([key, value], i) => {
      if (key.t !== "int" || key.v !== CWT_KEY_ORDER[i]) {
        fail("payload: a map with keys 1, 4, 5, -70001 in that order");
      }
      claims[key.v] = value;
    });
    const privateMap = claims[PRIVATE_CLAIMS];
    if (privateMap.t !== "map") fail("private claims: a map");
    const p = {};
    let previous = -1;
    for (const [key, value] of privateMap.entries) {
      if (key.t !== "int" || !(previous < key.v && key.v <= LAST_PRIVATE)) {
        fail("private claims: unknown key or keys out of order");
      }
      previous = key.v;
      p[key.v] = value;
    }
    for (const key of REQUIRED_PRIVATE) {
      if (!(key in p)) fail("private claims: a required claim is missing");
    }

    const docCode = intValue(p[P.DOCUMENT_TYPE]);
    const kindCode = intValue(p[P.KIND]);
    if (docCode < 0 || docCode >= DOCUMENT_TYPES.length) fail("document type code");
    if (kindCode < 0 || kindCode >= KINDS.length) fail("kind code");
    const work = p[P.WORK_STATES];
    if (work.t !== "text" || !COUNTRIES_RE.test(work.v)) fail("work states");
    const nbf = intValue(claims[CWT_NBF]);
    const exp = intValue(claims[CWT_EXP]);

    const certificateId = p[P.CERTIFICATE_ID];
    if (certificateId.t !== "bytes" || certificateId.v.length !== CERTIFICATE_ID_BYTES) {
      fail("certificate_id: exactly 10 bytes");
    }
    const legislation = p[P.LEGISLATION_STATE];
    if (legislation.t !== "text" || !COUNTRY_RE.test(legislation.v)) fail("legislation_state");
    const workStates = work.v.match(/[A-Z]{2}/g);
    if (workStates.length > MAX_WORK_STATES) fail("work_states: 1 to 32 codes");
    if (new Set(workStates).size !== workStates.length) fail("work_states: no repeats");
    const familyName = checkText(p[P.FAMILY_NAME], MAX_NAME_LENGTH);
    const givenNames = checkText(p[P.GIVEN_NAMES], MAX_NAME_LENGTH);
    const familyNameAscii = checkAsciiVariant(p[P.FAMILY_NAME_ASCII], familyName);
    const givenNamesAscii = checkAsciiVariant(p[P.GIVEN_NAMES_ASCII], givenNames);
    const birthDate = checkDays(p[P.BIRTH_DATE]);
    const validFrom = checkDays(p[P.VALID_FROM]);
    const validTo = checkDays(p[P.VALID_TO]);
    if (validTo < validFrom) fail("valid_to is before valid_from");
    const issuer = checkText(claims[CWT_ISS], MAX_ISSUER_LENGTH);
    if (!isAscii(issuer)) fail("issuer: ASCII only");
    const kind = KINDS[kindCode];
    let institution = null;
    if (kind === "official") {
      institution = checkText(p[P.ISSUING_INSTITUTION], MAX_INSTITUTION_LENGTH);
    } else if (p[P.ISSUING_INSTITUTION] !== undefined) {
      fail("issuing_institution: official certificates only");
    }
    if (nbf !== validFrom * DAY + NBF_OFFSET) fail("nbf does not match valid_from");
    if (exp !== validTo * DAY + EXP_OFFSET) fail("exp does not match valid_to");

    return {
      claims: {
        certificate_id: certificateIdText(certificateId.v),
        document_type: DOCUMENT_TYPES[docCode],
        kind,
        legislation_state: legislation.v,
        work_states: workStates,
        family_name: familyName,
        given_names: givenNames,
        family_name_ascii: familyNameAscii,
        given_names_ascii: givenNamesAscii,
        birth_date: isoDate(birthDate),
        valid_from: isoDate(validFrom),
        valid_to: isoDate(validTo),
        issuer,
        issuing_institution: institution,
      },
      nbf,
      exp,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Trust list and revocation list (FORMAT.md §5-6). A malformed document is refused whole.

  class ListError extends Error {
    constructor(message) {
      super(message);
      this.name = "A1WListError";
    }
  }

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function checkFormat(doc) {
    if (!isObject(doc) || doc.format !== FORMAT) {
      throw new ListError('not an A1W1 document: "format" must be "A1W1"');
    }
  }

  function parseUtc(text) {
    const m = typeof text === "string" ? UTC_TEXT_RE.exec(text) : null;
    if (!m) throw new ListError("not a UTC timestamp like 2026-05-01T10:00:00Z");
    const [year, month, day, hour, minute, second] = m.slice(1).map(Number);
    const ms = Date.UTC(year, month - 1, day, hour, minute, second);
    const back = new Date(ms);
    if (year < 1 || back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 ||
        back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
      throw new ListError("not a valid UTC timestamp");
    }
    return ms;
  }

  function base64Decode(text) {
    // Python's base64.b64decode(validate=True): padding required, extra padding after a whole
    // group ignored, trailing bits ignored.
    if (typeof text !== "string" || !BASE64_RE.test(text)) throw new ListError("public_key: standard Base64");
    const data = text.replace(/=+$/, "");
    const pads = text.length - data.length;
    const rest = data.length % 4;
    if (rest === 1 || (rest === 2 && pads < 2) || (rest === 3 && pads < 1)) {
      throw new ListError("public_key: incorrect Base64 padding");
    }
    const binary = atob(data);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  const ECDSA_P256 = { name: "ECDSA", namedCurve: "P-256" };
  const ES256 = { name: "ECDSA", hash: "SHA-256" };

  async function kidOf(spki) {
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", spki));
    return hex(digest.subarray(0, KID_BYTES));
  }

  async function loadEntry(entry) {
    if (!isObject(entry)) throw new ListError("each key entry is an object");
    if (entry.alg !== "ES256" || entry.crv !== "P-256") {
      throw new ListError('only "alg": "ES256", "crv": "P-256" keys are allowed');
    }
    if (!KEY_STATES.includes(entry.state)) throw new ListError("state: published, active or retired");
    // A key's document class is the kind it may sign; a key listed without one is provisional.
    const documentClass = Object.prototype.hasOwnProperty.call(entry, "document_class")
      ? entry.document_class
      : DEFAULT_DOCUMENT_CLASS;
    if (!KINDS.includes(documentClass)) throw new ListError("document_class: provisional, official or absent");
    const notBefore = parseUtc(entry.not_before);
    if (entry.not_after !== undefined && entry.not_after !== null && parseUtc(entry.not_after) < notBefore) {
      throw new ListError("not_after is before not_before");
    }
    const der = base64Decode(entry.public_key);
    let key;
    let canonical;
    try {
      key = await crypto.subtle.importKey("spki", der, ECDSA_P256, true, ["verify"]);
      // The kid is over the key's canonical DER, as the reference re-serialises it.
      canonical = await crypto.subtle.exportKey("spki", key);
    } catch (error) {
      throw new ListError("public_key: not a DER SubjectPublicKeyInfo of a P-256 key");
    }
    if (typeof entry.kid !== "string" || !KID_TEXT_RE.test(entry.kid)) {
      throw new ListError("a kid is 16 lower-case hex characters");
    }
    if (entry.kid !== (await kidOf(canonical))) {
      throw new ListError("kid " + entry.kid + " does not match its public key");
    }
    return [entry.kid, key, documentClass];
  }

  /** Trusted public keys by hex kid, each with its document class, from a keys.json document. */
  class KeySet {
    constructor(keys, classes) {
      this.keys = keys; // Map kid hex -> CryptoKey
      this.classes = classes; // Map kid hex -> "provisional" | "official"
    }

    get(kid) {
      return this.keys.get(kid) || null;
    }

    documentClass(kid) {
      return this.classes.get(kid) || null;
    }

    get size() {
      return this.keys.size;
    }
  }

  async function loadKeys(doc) {
    checkFormat(doc);
    if (!Array.isArray(doc.keys)) throw new ListError('"keys" must be a list');
    const entries = await Promise.all(doc.keys.map(loadEntry));
    const keys = new Map();
    const classes = new Map();
    for (const [kid, key, documentClass] of entries) {
      if (keys.has(kid)) throw new ListError("kid " + kid + " is listed twice");
      keys.set(kid, key);
      classes.set(kid, documentClass);
    }
    return new KeySet(keys, classes);
  }

  function parseCertificateId(text) {
    if (typeof text !== "string" || text.length !== 16 || !isAscii(text)) {
      throw new ListError("a certificate id is 16 Crockford Base32 characters");
    }
    let out = "";
    for (const ch of text.toUpperCase()) {
      const canonical = ch === "O" ? "0" : ch === "I" || ch === "L" ? "1" : ch;
      if (!CROCKFORD.includes(canonical)) throw new ListError("not a Crockford Base32 character");
      out += canonical;
    }
    return out;
  }

  /** Revoked certificate ids (canonical text) and kids (lower-case hex). */
  class RevocationSet {
    constructor(certificateIds, kids) {
      this.certificateIds = certificateIds;
      this.kids = kids;
    }
  }

  function loadRevoked(doc) {
    if (doc === undefined || doc === null) return new RevocationSet(new Set(), new Set());
    checkFormat(doc);
    const certificates = doc.certificates;
    const kids = doc.keys;
    if (!Array.isArray(certificates) || !Array.isArray(kids)) {
      throw new ListError('"certificates" and "keys" must be lists');
    }
    if (![...certificates, ...kids].every((item) => typeof item === "string")) {
      throw new ListError("revoked ids and kids are strings");
    }
    const kidSet = new Set();
    for (const kid of kids) {
      const lower = kid.toLowerCase();
      if (!KID_TEXT_RE.test(lower)) throw new ListError("a kid is 16 hex characters");
      kidSet.add(lower);
    }
    return new RevocationSet(new Set(certificates.map(parseCertificateId)), kidSet);
  }

  // ---------------------------------------------------------------------------------------------
  // Verification, in the order of FORMAT.md §4 and verifier/verify.py.

  function atMilliseconds(at) {
    if (at === undefined || at === null) return Date.now();
    if (at instanceof Date) return at.getTime();
    if (typeof at === "number") return at;
    if (typeof at === "string" && /(Z|[+-]\d{2}:\d{2})$/.test(at)) return Date.parse(at);
    return NaN; // a time without a zone is refused, like the reference's naive datetimes
  }

  function result(status, kid, claims) {
    return { status, kid: kid || null, claims: claims || null };
  }

  async function verifyParsed(text, keys, revoked, nowMs) {
    // 1. parse the envelope (the payload stays opaque until the signature holds)
    let envelope;
    try {
      envelope = parseEnvelope(tokenBytes(text));
    } catch (error) {
      if (error instanceof MalformedToken) {
        return result("malformed", error.kid ? hex(error.kid) : null, null);
      }
      throw error;
    }
    const kid = hex(envelope.kid);

    // 2. key not revoked (whether or not keys.json lists it); 3. known key
    if (revoked.kids.has(kid)) return result("key_revoked", kid, null);
    const publicKey = keys.get(kid);
    if (publicKey === null) return result("unknown_key", kid, null);

    // 4. signature: raw r || s over the Sig_structure, as WebCrypto takes it
    let good = false;
    try {
      good = await crypto.subtle.verify(
        ES256, publicKey, envelope.signature, sigStructure(envelope.protectedHeader, envelope.payload)
      );
    } catch (error) {
      good = false;
    }
    if (!good) return result("bad_signature", kid, null);

    // 5. claims, read only now
    let decoded;
    try {
      decoded = decodePayload(envelope.payload);
    } catch (error) {
      if (error instanceof MalformedToken) return result("malformed", kid, null);
      throw error;
    }
    const { claims, nbf, exp } = decoded;

    // 6. the key's document class must be the certificate's kind (a provisional-class key never
    // vouches for an official record); no claims, as the key does not vouch for them
    if (keys.documentClass(kid) !== claims.kind) return result("kind_mismatch", kid, null);

    // 7. time window, with the clock skew at both ends
    const now = nowMs / 1000;
    if (now < nbf - CLOCK_SKEW_SECONDS) return result("not_yet_valid", kid, claims);
    if (now >= exp + CLOCK_SKEW_SECONDS) return result("expired", kid, claims);

    // 8. certificate not revoked
    if (revoked.certificateIds.has(claims.certificate_id)) return result("revoked", kid, claims);
    return result("valid", kid, claims);
  }

  /** Verify with loaded lists. Resolves for every text; never shows a claim without a signature. */
  async function verify(text, keys, revoked, at) {
    if (!(keys instanceof KeySet)) throw new TypeError("keys: a KeySet from A1W.loadKeys");
    const revocations = revoked instanceof RevocationSet ? revoked : loadRevoked(revoked);
    const nowMs = atMilliseconds(at);
    if (!Number.isFinite(nowMs)) throw new TypeError("at: an ISO 8601 time with a zone, a Date or ms");
    try {
      return await verifyParsed(text, keys, revocations, nowMs);
    } catch (error) {
      // Not expected; but whatever the input, it must never pass as genuine or escape.
      return result("malformed", null, null);
    }
  }

  async function verifyText(text, keysDoc, revokedDoc, at) {
    const keys = await loadKeys(keysDoc);
    return verify(text, keys, loadRevoked(revokedDoc), at);
  }

  global.A1W = Object.freeze({
    STATUSES,
    CLOCK_SKEW_SECONDS,
    verifyText,
    verify,
    loadKeys,
    loadRevoked,
    KeySet,
    RevocationSet,
    ListError,
    // exposed for tests
    _isPrintableCodePoint: isPrintableCodePoint,
    _tokenBytes: (text) => {
      try {
        return tokenBytes(text);
      } catch (error) {
        return null;
      }
    },
  });
})(typeof self !== "undefined" ? self : window);
