// Photo previews, made in the page before upload so that the vault stores a
// small JPEG beside each photo and the grid never decrypts full images.

/** Longest side of a preview, in pixels. */
export const THUMBNAIL_SIZE = 320;

/**
 * A JPEG preview of an image file, at most THUMBNAIL_SIZE pixels on its
 * longest side; null if the browser cannot decode the file.
 * @param {Blob} file
 * @returns {Promise<Blob | null>}
 */
export async function makeThumbnail(file) {
  /** @type {ImageBitmap} */
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return null;
  }
  try {
    const scale = Math.min(1, THUMBNAIL_SIZE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    if (typeof OffscreenCanvas === 'function') {
      const canvas = new OffscreenCanvas(width, height);
      paint(canvas.getContext('2d'), bitmap, width, height);
      return await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
    }
    const canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
    paint(canvas.getContext('2d'), bitmap, width, height);
    return await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.8));
  } catch {
    return null;
  } finally {
    bitmap.close();
  }
}

/**
 * @param {CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null} ctx
 * @param {ImageBitmap} bitmap
 * @param {number} width
 * @param {number} height
 */
function paint(ctx, bitmap, width, height) {
  if (!ctx) throw new Error('no 2d canvas');
  // JPEG has no transparency: put transparent images on white, not black.
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
}
