import { Prng } from '../../test/helpers/prng.js';

const WORDS = (
  'the a cat dog sat on mat quick brown fox jumps over lazy river city music night market report patient note ' +
  'transcript meeting agreed budget next quarter doctor prescribed rest water image text line document invoice ' +
  'customer asked about delivery delayed because storm weather forecast rain tomorrow morning team shipped release'
).split(' ');

/** Seeded English-like sentences with `minWords..maxWords` words each. */
export function sentences(seed: number, count: number, minWords: number, maxWords: number): string[] {
  const rng = new Prng(seed);
  return Array.from({ length: count }, () => {
    const n = rng.range(minWords, maxWords);
    const words = Array.from({ length: n }, () => rng.pick(WORDS));
    return `${words.join(' ')}.`;
  });
}
