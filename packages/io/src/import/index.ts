// Importing files into tables: a use of the table API (above table/ and blob/ in io's layering).
export { importImages } from './image-import.js';
export type { ImageSource, ImportImagesOptions, ImportImagesProgress, ImportImagesResult } from './image-import.js';
