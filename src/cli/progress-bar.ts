/**
 * A one-line progress bar on a TTY (redrawn in place), or one line per change of whole percent elsewhere,
 * so logs stay readable when stderr is a file.
 */
export class ProgressBar {
  readonly #out: NodeJS.WriteStream;
  readonly #total: number;
  readonly #label: string;
  #lastPercent = -1;
  #lastLine = '';

  constructor(out: NodeJS.WriteStream, total: number, label: string) {
    this.#out = out;
    this.#total = total;
    this.#label = label;
  }

  update(counts: { completed: number; dead: number; cancelled: number }): void {
    const done = counts.completed + counts.dead + counts.cancelled;
    const pct = this.#total === 0 ? 100 : Math.floor((done / this.#total) * 100);
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    const line = `${this.#label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.#total} ` +
      `completed ${counts.completed} dead ${counts.dead}${counts.cancelled ? ` cancelled ${counts.cancelled}` : ''}`;
    if (this.#out.isTTY) {
      if (line !== this.#lastLine) this.#out.write(`\r${line}`);
    } else if (pct !== this.#lastPercent) {
      this.#out.write(`${line}\n`);
    }
    this.#lastPercent = pct;
    this.#lastLine = line;
  }

  finish(): void {
    if (this.#out.isTTY) this.#out.write('\n');
  }
}
