/**
 * Labelled images for the demo: small RGB PNGs of three visually distinct classes (a disc, a square,
 * horizontal stripes) in random colours and positions, so a tiny CNN can learn them in seconds.
 */
import { PNG } from 'pngjs';

/** The demo's classes, in label-id order. */
export const DEMO_CLASSES = ['disc', 'square', 'stripes'] as const;

/** Draw one image of class `label` (index into DEMO_CLASSES) as PNG bytes. */
export function drawDemoImage(label: number, size: number, rand: () => number): Buffer {
  const png = new PNG({ width: size, height: size });
  const bg = [rand() * 60, rand() * 60, rand() * 60];
  const fg = [150 + rand() * 105, 150 + rand() * 105, 150 + rand() * 105];
  const cx = size * (0.35 + rand() * 0.3);
  const cy = size * (0.35 + rand() * 0.3);
  const r = size * (0.18 + rand() * 0.1);
  const period = Math.max(2, Math.round(size / (4 + rand() * 3)));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let on: boolean;
      if (label === 0) on = (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
      else if (label === 1) on = Math.abs(x - cx) <= r && Math.abs(y - cy) <= r;
      else on = Math.floor(y / period) % 2 === 0;
      const c = on ? fg : bg;
      const i = (y * size + x) * 4;
      png.data[i] = c[0]!; png.data[i + 1] = c[1]!; png.data[i + 2] = c[2]!; png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}
