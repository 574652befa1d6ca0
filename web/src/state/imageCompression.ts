// Client-side image compression before upload: the pure decisions (which images, what size,
// what name) and the canvas step that applies them. Large photos shrink to a few hundred KB
// instead of using the upload bandwidth and the server's storage at full camera resolution.

/** Images whose longer side exceeds this many pixels are scaled down to it. */
export const MAX_SIDE = 2560;
/** Images above this many bytes are re-encoded even when their dimensions are fine. */
export const MAX_BYTES = 1.5 * 1024 * 1024;
/** JPEG quality of the re-encoded image. */
export const JPEG_QUALITY = 0.85;

/** Photo formats a canvas re-encodes well; GIFs (animation) and everything else pass untouched. */
const COMPRESSIBLE = new Set(["image/jpeg", "image/png", "image/webp"]);

export type CompressionPlan =
  | { compress: false; reason: "original" | "not-a-photo" | "small" }
  | { compress: true; width: number; height: number };

/** Whether (and to which size) an image is re-encoded before upload. */
export function compressionPlan(
  image: { mime: string; size: number; width: number; height: number },
  sendOriginal: boolean,
): CompressionPlan {
  if (sendOriginal) return { compress: false, reason: "original" };
  if (!COMPRESSIBLE.has(image.mime.toLowerCase())) return { compress: false, reason: "not-a-photo" };
  const { width, height } = fitWithin(image.width, image.height, MAX_SIDE);
  if (width === image.width && height === image.height && image.size <= MAX_BYTES) {
    return { compress: false, reason: "small" };
  }
  return { compress: true, width, height };
}

/** Scales (w, h) down, keeping the aspect ratio, so the longer side is at most `max`. */
export function fitWithin(w: number, h: number, max: number): { width: number; height: number } {
  const longest = Math.max(w, h);
  if (longest <= max || longest <= 0) return { width: w, height: h };
  const scale = max / longest;
  return { width: Math.max(1, Math.round(w * scale)), height: Math.max(1, Math.round(h * scale)) };
}

/** The original name with a `.jpg` extension (`IMG_1.HEIC.png` → `IMG_1.HEIC.jpg`). */
export function jpegName(name: string): string {
  const dot = name.lastIndexOf(".");
  const stem = dot > 0 ? name.slice(0, dot) : name;
  return `${stem || "image"}.jpg`;
}

/** Keeps the re-encoded image only when it is smaller (a PNG screenshot may grow as JPEG). */
export function keepCompressed(originalBytes: number, compressedBytes: number, resized: boolean): boolean {
  return resized || compressedBytes < originalBytes;
}

export interface Prepared {
  blob: Blob;
  name: string;
  compressed: boolean;
}

/**
 * Applies the plan in the browser: decodes with EXIF orientation applied, draws onto a canvas
 * on white (JPEG has no alpha) and encodes as JPEG. Falls back to the original on any failure.
 */
export async function prepareImage(file: File, sendOriginal: boolean): Promise<Prepared> {
  const original: Prepared = { blob: file, name: file.name, compressed: false };
  if (sendOriginal || !COMPRESSIBLE.has(file.type) || typeof createImageBitmap !== "function") return original;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch {
    return original;
  }
  try {
    const plan = compressionPlan({ mime: file.type, size: file.size, width: bitmap.width, height: bitmap.height }, false);
    if (!plan.compress) return original;
    const blob = await encodeJpeg(bitmap, plan.width, plan.height);
    if (!blob) return original;
    const resized = plan.width !== bitmap.width || plan.height !== bitmap.height;
    if (!keepCompressed(file.size, blob.size, resized)) return original;
    return { blob, name: jpegName(file.name), compressed: true };
  } catch {
    return original;
  } finally {
    bitmap.close();
  }
}

async function encodeJpeg(bitmap: ImageBitmap, width: number, height: number): Promise<Blob | null> {
  if (typeof OffscreenCanvas === "function") {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext("2d");
    if (!ctx) return null;
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(bitmap, 0, 0, width, height);
    return canvas.convertToBlob({ type: "image/jpeg", quality: JPEG_QUALITY });
  }
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, width, height);
  ctx.drawImage(bitmap, 0, 0, width, height);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", JPEG_QUALITY));
}
