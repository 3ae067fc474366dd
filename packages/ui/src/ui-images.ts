/**
 * Blob bytes for the browser: the type read from their first bytes, server-made thumbnails (sharp),
 * and the full image in a format every browser shows. Bytes always come from an io scan with `blobs`
 * (see ui-api.ts), never from a path read here.
 */
import sharp from 'sharp';

/** Largest blob (bytes) the UI decodes for a thumbnail or a full view; larger ones are listed by type and size only. */
export const MAX_DECODE_BYTES = 32 * 1024 * 1024;
/** Largest image (pixels) sharp is allowed to decode: guards against decompression bombs. */
export const MAX_DECODE_PIXELS = 40_000_000;
/** Longest side of a thumbnail, in pixels. */
export const THUMB_SIZE = 96;
/** Longest side of the full view of an image that has to be converted (formats browsers do not show). */
export const FULL_VIEW_MAX_SIDE = 4096;

/** Bytes from the start of a blob that {@link sniffType} looks at (at most). */
export const SNIFF_HEAD_BYTES = 16;

/** Types a browser shows in an `<img>` without running anything (SVG is deliberately absent). */
const BROWSER_IMAGES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

const SIGNATURES: Array<[string, (b: Uint8Array) => boolean]> = [
  ['image/png', (b) => b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47],
  ['image/jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['image/gif', (b) => b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38],
  ['image/webp', (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP'],
  ['image/tiff', (b) => (b[0] === 0x49 && b[1] === 0x49 && b[2] === 0x2a && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && b[3] === 0x2a)],
  ['image/avif', (b) => ascii(b, 4, 8) === 'ftypavif'],
  ['audio/wav', (b) => ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WAVE'],
  ['audio/mpeg', (b) => ascii(b, 0, 3) === 'ID3' || (b[0] === 0xff && (b[1]! & 0xe0) === 0xe0)],
  ['audio/flac', (b) => ascii(b, 0, 4) === 'fLaC'],
  ['audio/ogg', (b) => ascii(b, 0, 4) === 'OggS'],
  ['video/mp4', (b) => ascii(b, 4, 4) === 'ftyp'],
  ['application/pdf', (b) => ascii(b, 0, 5) === '%PDF-'],
  ['application/zip', (b) => b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04],
  ['application/gzip', (b) => b[0] === 0x1f && b[1] === 0x8b],
];

function ascii(b: Uint8Array, at: number, n: number): string {
  if (b.length < at + n) return '';
  return String.fromCharCode(...b.subarray(at, at + n));
}

/** The media type of `bytes` from their signature; `application/octet-stream` when unknown. */
export function sniffType(bytes: Uint8Array): string {
  for (const [type, test] of SIGNATURES) if (test(bytes)) return type;
  return 'application/octet-stream';
}

/** Whether a browser may be handed these bytes as an image as they are. */
export function isBrowserImage(type: string): boolean {
  return BROWSER_IMAGES.has(type);
}

/** What the row list shows for one blob value. */
export type BlobPreview =
  | { kind: 'image'; type: string; size: number; width: number; height: number; thumbnail: string }
  | { kind: 'file'; type: string; size: number; note?: string }
  | { kind: 'missing' }
  /** The reference lies outside the blob roots (the scan refused it). */
  | { kind: 'refused'; code: string; message: string }
  /** Reading it failed otherwise (a bad reference, a store error). */
  | { kind: 'error'; code: string; message: string };

function decoder(bytes: Uint8Array): sharp.Sharp {
  return sharp(bytes, { limitInputPixels: MAX_DECODE_PIXELS, failOn: 'error' });
}

/**
 * The preview of a blob of `size` bytes starting with `head` (its first {@link SNIFF_HEAD_BYTES} bytes
 * or more) when it needs no decoding: a file that is no image (type and size), or an image over
 * {@link MAX_DECODE_BYTES} (no thumbnail). Null when the blob is an image to decode: only then are its
 * bytes worth reading whole.
 */
export function previewWithoutDecode(head: Uint8Array, size: number): BlobPreview | null {
  const type = sniffType(head);
  if (!type.startsWith('image/')) return { kind: 'file', type, size };
  if (size > MAX_DECODE_BYTES) return { kind: 'file', type, size, note: `larger than ${MAX_DECODE_BYTES} bytes: no thumbnail` };
  return null;
}

/**
 * `bytes` resized into a square box of `side` pixels (`resize` options), turned upright by its EXIF
 * orientation and encoded by `encode`, as `decoder(bytes).rotate().resize(...)` makes it, in less
 * work: for an RGB or grey image the embedded ICC profile and the orientation are applied to the
 * resized image, not to every pixel of the original (a 40-megapixel PNG with a profile and an
 * orientation took 6 to 8 times as long as one without: sharp converts the whole decoded image to
 * sRGB, and turns it, before resizing). The box is square, so resizing before turning gives the same
 * size. Other colour spaces (CMYK, 16-bit) are converted as sharp does, whole.
 */
async function resizedUpright(bytes: Uint8Array, meta: sharp.Metadata, side: number, resize: sharp.ResizeOptions, encode: (s: sharp.Sharp) => sharp.Sharp): Promise<Buffer> {
  if (meta.space !== 'srgb' && meta.space !== 'b-w') return encode(decoder(bytes).rotate().resize(side, side, resize)).toBuffer();
  // the small image as stored: its pixels in the original's colour space, with its profile and orientation
  let small = sharp(bytes, { limitInputPixels: MAX_DECODE_PIXELS, failOn: 'error', ignoreIcc: true }).resize(side, side, resize).keepIccProfile();
  if (meta.orientation !== undefined && meta.orientation > 1 && meta.orientation <= 8) small = small.withExif({ IFD0: { Orientation: String(meta.orientation) } });
  const stored = await small.png({ compressionLevel: 0 }).toBuffer();
  // then converted to sRGB and turned upright, 96 px (or the full view's size) of it
  return encode(sharp(stored, { failOn: 'error' }).autoOrient()).toBuffer();
}

/**
 * A preview of one blob: a WebP thumbnail (as a `data:` URI) when sharp decodes it as an image within
 * the limits, else its type and size.
 */
export async function previewOf(bytes: Uint8Array): Promise<BlobPreview> {
  const known = previewWithoutDecode(bytes, bytes.length);
  if (known) return known;
  const type = sniffType(bytes);
  try {
    const meta = await decoder(bytes).metadata();
    // Small images are enlarged with nearest-neighbour sampling, so their pixels stay sharp instead of blurring.
    const small = Math.max(meta.width ?? 0, meta.height ?? 0) < THUMB_SIZE;
    const thumb = await resizedUpright(bytes, meta, THUMB_SIZE, { fit: 'inside', withoutEnlargement: false, kernel: small ? 'nearest' : 'lanczos3' }, (s) => s.webp({ quality: 80 }));
    return { kind: 'image', type, size: bytes.length, width: meta.width ?? 0, height: meta.height ?? 0, thumbnail: `data:image/webp;base64,${thumb.toString('base64')}` };
  } catch (e) {
    return { kind: 'file', type, size: bytes.length, note: `not decodable as an image: ${(e as Error).message}` };
  }
}

/**
 * The bytes to show as the full image: the original when browsers show its format, else a PNG made
 * by sharp (longest side at most {@link FULL_VIEW_MAX_SIDE}); null when it is no decodable image.
 */
export async function fullImageOf(bytes: Uint8Array): Promise<{ type: string; bytes: Uint8Array } | null> {
  const type = sniffType(bytes);
  if (isBrowserImage(type)) return { type, bytes };
  if (!type.startsWith('image/') || bytes.length > MAX_DECODE_BYTES) return null;
  try {
    const meta = await decoder(bytes).metadata();
    const png = await resizedUpright(bytes, meta, FULL_VIEW_MAX_SIDE, { fit: 'inside', withoutEnlargement: true }, (s) => s.png());
    return { type: 'image/png', bytes: new Uint8Array(png) };
  } catch {
    return null;
  }
}
