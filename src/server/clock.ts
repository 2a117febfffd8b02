// Where the server reads the time (ms since the epoch); tests inject their own to move time.
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();
