// Importing files into tables: a use of the table API (above table/ and blob/ in io's layering).
export { importImages, IMPORT_MODE_PROPERTY, IMPORT_SOURCES_PROPERTY } from './image-import.js';
export type { ImageSource, ImportImagesOptions, ImportImagesProgress, ImportImagesResult } from './image-import.js';
