import { MpError, isMpError, type ErrorCode } from '../errors.js';
import type { InstancePool } from '../runtime/instance-pool.js';
import type { TensorMap } from '../tensor/tensor.js';
import { assembleInputs, batchPadLengths, outputsForBatch, scatterOutputs, type BatchLayout } from './batch-assembler.js';
import type { BatchPolicy } from './batch-policy.js';
import { BatchTimer } from './batch-timer.js';
import { systemClock, type Clock } from './clock.js';
import type { InferenceRequest } from './inference-request.js';
import { RequestQueue } from './request-queue.js';
import { startBatchSpan, type RequestTrace } from './request-trace.js';
import { noopSchedulerStats, type SchedulerStats } from './stats.js';

const QUEUED = 1;
const RUNNING = 2;
const NO_DEADLINE = Number.POSITIVE_INFINITY;
/** Requests of a finished batch answered per event-loop turn (see answerInSlices). */
const ANSWER_SLICE = 8;

/** A batch whose outputs are back, while its answers go out. */
interface FinishedBatch {
  readonly requests: readonly InferenceRequest[];
  readonly outputs: TensorMap;
  readonly padLengths: readonly number[];
  readonly rows: number;
  /** When the outputs came back: the answer phase is timed from here. */
  readonly computedAtUs: number;
}

/**
 * The per-model-version scheduler, modelled on Triton's dynamic batcher: priority queues with
 * bounded size and deadlines, batches formed from the queue heads whenever an instance is idle,
 * one timer for both the queue delay and the closest deadline.
 *
 * Contract: `submit` is synchronous. It returns null once it owns the request (the request will be
 * settled exactly once, later), or the ErrorCode of a refusal (the caller answers; nothing is queued).
 */
export class DynamicBatcher {
  private readonly queues: RequestQueue<InferenceRequest>[];
  private readonly liveCount: number[];
  private readonly liveRows: number[];
  private totalLive = 0;
  private timer: unknown = undefined;
  private timerAtUs = NO_DEADLINE;
  private nextDeadlineUs = NO_DEADLINE;
  /** Batch execution times by size, for deadline admission, expiry and Retry-After. */
  private readonly batchTimer = new BatchTimer();
  /**
   * How long a finished batch takes to be answered (its last slice out), by size. A deadline bounds
   * the answer, and under overload the slices share the event loop with every arrival: tens of
   * milliseconds that admission and expiry must leave room for, or admitted answers come late.
   */
  private readonly answerTimer = new BatchTimer(false);
  /** The batches running now (one per busy instance): start time and rows. */
  private readonly running: Array<{ startUs: number; rows: number }> = [];
  private closed = false;
  private pumpDeferred = false;
  /** Finished batches whose answers are still going out, a slice per event-loop turn. */
  private answering = 0;
  /**
   * For the adaptive queue delay: the most rows in the system (queued + running: about how many
   * clients are active) since the last batch was sent, and when an instance last freed up.
   */
  private peakLoadRows = 0;
  private lastFreedAtUs = 0;
  private idleWaiters: Array<() => void> = [];
  /** Rows one batch can hold: max_batch_size when batching, else one request. */
  private readonly rowsPerBatch: number;
  private readonly taken: InferenceRequest[] = [];

  constructor(
    private readonly pool: InstancePool,
    private readonly layout: BatchLayout,
    readonly policy: BatchPolicy,
    private readonly clock: Clock = systemClock,
    private readonly stats: SchedulerStats = noopSchedulerStats,
  ) {
    this.queues = policy.levels.map(() => new RequestQueue<InferenceRequest>());
    this.liveCount = policy.levels.map(() => 0);
    this.liveRows = policy.levels.map(() => 0);
    this.rowsPerBatch = policy.dynamic ? policy.maxBatchSize : 1;
    // The next batch is pumped from the finished run's own callback (dispatch), once its time is
    // recorded: formed here, it would be formed and admitted against an estimate one batch stale.
    pool.onIdle = () => {
      this.lastFreedAtUs = this.clock.nowUs();
    };
  }

  /** Requests waiting (not yet running). */
  get queued(): number {
    return this.totalLive;
  }

  submit(req: InferenceRequest): ErrorCode | null {
    if (this.closed) return 'MP_SHUTTING_DOWN';
    const levelIndex = req.priority === 0 ? this.policy.defaultLevelIndex : req.priority - 1;
    const level = this.policy.levels[levelIndex];
    if (!level) return 'MP_INVALID_ARG';
    if (this.liveCount[levelIndex]! >= level.maxQueueSize) return 'MP_OVERLOADED';
    const now = this.clock.nowUs();
    // The timeout bounds the answer as the client sees it: time already spent receiving the request counts.
    const configuredUs = level.allowTimeoutOverride && req.timeoutUs > 0 ? req.timeoutUs : level.defaultTimeoutUs;
    const timeoutUs = configuredUs > 0 ? Math.max(1, configuredUs - req.elapsedBeforeUs) : 0;
    if (timeoutUs > 0 && this.estimatedWaitUs(levelIndex, req.batchSize) > timeoutUs) return 'MP_QUEUE_TIMEOUT';
    req.levelIndex = levelIndex;
    req.enqueuedAtUs = now;
    req.deadlineUs = timeoutUs > 0 ? now + timeoutUs : 0;
    req.phase = QUEUED;
    this.queues[levelIndex]!.push(req);
    this.liveCount[levelIndex]!++;
    this.liveRows[levelIndex]! += req.batchSize;
    this.totalLive++;
    const load = this.loadRows();
    if (load > this.peakLoadRows) this.peakLoadRows = load;
    // A first check at the earliest moment it could be too late (expire() refines it).
    if (req.deadlineUs > 0) {
      const lastStartUs = req.deadlineUs - this.answeredBudgetUs(this.rowsPerBatch);
      if (lastStartUs < this.nextDeadlineUs) this.nextDeadlineUs = lastStartUs;
    }
    this.schedulePump();
    return null;
  }

  /**
   * Whether a request would be refused now, decided before its body is read, so that under
   * overload a refusal costs neither receiving nor parsing it. Only where the body cannot change
   * the answer: one priority level and no per-request timeout. A request of one row is the least
   * that can be asked, so a refusal here is a refusal for any. Returns null when unsure.
   */
  refusesBeforeBody(elapsedBeforeUs: number): ErrorCode | null {
    if (this.closed) return 'MP_SHUTTING_DOWN';
    const level = this.policy.levels[0]!;
    if (this.policy.levels.length !== 1 || level.allowTimeoutOverride) return null;
    if (this.liveCount[0]! >= level.maxQueueSize) return 'MP_OVERLOADED';
    const timeoutUs = level.defaultTimeoutUs > 0 ? Math.max(1, level.defaultTimeoutUs - elapsedBeforeUs) : 0;
    if (timeoutUs > 0 && this.estimatedWaitUs(0, 1) > timeoutUs) return 'MP_QUEUE_TIMEOUT';
    return null;
  }

  /** Drops a request whose client went away. Returns false when it is already running or settled. */
  cancel(req: InferenceRequest): boolean {
    if (req.phase !== QUEUED || req.settled) return false;
    this.forget(req);
    req.reject(new MpError('MP_CANCELLED', 'the client closed the connection'));
    this.notifyIfIdle();
    return true;
  }

  /** Seconds a refused client should wait before retrying: the time to work off the current queue. */
  retryAfterSeconds(): number {
    const maxBatch = Math.max(1, this.policy.maxBatchSize);
    const rows = this.queuedRows();
    const waves = Math.ceil(rows / (maxBatch * this.pool.size));
    return Math.max(1, Math.ceil((waves * this.fullBatchBudgetUs()) / 1e6));
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.totalLive === 0 && this.pool.busy === 0 && this.answering === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops admitting; with `rejectQueued`, answers every queued request at once. */
  close(rejectQueued: boolean): void {
    this.closed = true;
    if (!rejectQueued) return;
    for (const q of this.queues) {
      for (let r = q.shift(); r; r = q.shift()) {
        this.forget(r);
        r.reject(new MpError('MP_SHUTTING_DOWN', 'the model is being unloaded'));
      }
    }
    this.notifyIfIdle();
  }

  /**
   * Pumps once the requests that arrived with this one are queued too (see Clock.defer): under
   * load, a freed instance then takes everything that came in meanwhile, not the first arrival alone.
   */
  private schedulePump(): void {
    const defer = this.clock.defer;
    // Waiting cannot grow a batch that is already full; under overload the turn it waits for is
    // spent refusing what arrived meanwhile, with the instance idle.
    if (!defer || (this.pool.hasIdle() && this.queuedRows() >= this.rowsPerBatch)) return this.pump();
    if (this.pumpDeferred) return;
    this.pumpDeferred = true;
    defer(() => {
      this.pumpDeferred = false;
      this.pump();
    });
  }

  /** Forms and dispatches batches while an instance is idle and the policy says send. */
  pump(): void {
    let now = this.clock.nowUs();
    // A batch about to form from a backlog is the moment to drop what can only be answered late
    // (expire() is lenient otherwise, and its next check may be set for the deadline itself).
    if (now >= this.nextDeadlineUs || (this.pool.hasIdle() && this.queuedRows() > this.idleRows())) this.expire(now);
    while (this.totalLive > 0 && this.pool.hasIdle()) {
      const waitUs = this.formBatch(now);
      if (waitUs > 0) {
        this.armTimer(now, waitUs);
        return;
      }
      this.dispatch(this.taken);
      now = this.clock.nowUs();
    }
    // Instances all busy (or queue empty): only deadlines need a wake-up until an instance frees.
    if (this.totalLive > 0 && this.nextDeadlineUs !== NO_DEADLINE) this.armTimer(now, this.nextDeadlineUs - now);
    else this.disarmTimer();
  }

  /**
   * Walks the queues in priority order collecting the requests of the next batch into `taken`.
   * Returns 0 to send them now, or the µs to wait for a fuller batch.
   */
  private formBatch(nowUs: number): number {
    const p = this.policy;
    const taken = this.taken;
    taken.length = 0;
    const maxBatch = this.rowsPerBatch;
    let size = 0;
    let tokens = 0;
    let shapeKey = '';
    let closedByNext = false; // the next request cannot join: waiting cannot grow this batch
    let preferredCount = 0; // requests in the largest prefix whose size is a preferred size
    walk: for (const q of this.queues) {
      for (let i = 0; i < q.length; i++) {
        const r = q.at(i)!;
        if (r.settled) continue;
        if (taken.length === 0) {
          shapeKey = r.shapeKey;
        } else if (!p.dynamic || r.shapeKey !== shapeKey || size + r.batchSize > maxBatch || (p.maxBatchTokens > 0 && tokens + r.tokens > p.maxBatchTokens)) {
          closedByNext = true;
          break walk;
        }
        taken.push(r);
        size += p.dynamic ? r.batchSize : 1;
        tokens += r.tokens;
        if (p.preferredBatchSizes.includes(size)) preferredCount = taken.length;
        if (size >= maxBatch) break walk;
      }
    }
    if (!p.dynamic) return 0;
    // Test/benchmark aid: hold everything until enough requests are queued.
    if (p.delayUntilQueued > 0 && this.totalLive < p.delayUntilQueued) return Number.MAX_SAFE_INTEGER;
    // Full, or the next request can never join: send.
    if (size >= maxBatch || closedByNext) return 0;
    // A preferred size reached: send the largest such prefix at once.
    if (preferredCount > 0) {
      taken.length = preferredCount;
      return 0;
    }
    // Adaptive: wait only for rows expected back (the recent load less what is still running).
    if (p.adaptiveQueueDelay && size >= Math.min(maxBatch, this.peakLoadRows - this.runningRows())) return 0;
    const since = p.adaptiveQueueDelay ? Math.max(taken[0]!.enqueuedAtUs, this.lastFreedAtUs) : taken[0]!.enqueuedAtUs;
    const waitedUs = nowUs - since;
    if (waitedUs >= p.maxQueueDelayUs) return 0;
    return p.maxQueueDelayUs - waitedUs;
  }

  private dispatch(taken: InferenceRequest[]): void {
    const requests = taken.slice();
    // The batch is exactly the first live requests in level order: shifting yields them in turn.
    for (const r of requests) {
      this.queues[r.levelIndex]!.shift();
      this.forget(r);
    }
    const startUs = this.clock.nowUs();
    let rows = 0;
    let traces: RequestTrace[] | undefined;
    for (const r of requests) {
      r.queueUs = startUs - r.enqueuedAtUs;
      this.stats.requestQueued(r.queueUs);
      rows += r.batchSize;
      if (r.trace) (traces ??= []).push(r.trace);
    }
    const run = { startUs, rows };
    this.running.push(run);
    this.peakLoadRows = this.loadRows();
    const batchSpan = traces ? startBatchSpan(traces, rows) : undefined;
    if (traces) for (const t of traces) t.dispatched(batchSpan!);
    const padLengths = batchPadLengths(this.layout, requests);
    let inputs: TensorMap;
    try {
      inputs = assembleInputs(this.layout, requests, padLengths);
    } catch (err) {
      this.batchEnded(run);
      batchSpan?.end();
      this.failBatch(requests, err);
      this.notifyIfIdle();
      return;
    }
    const inferStartUs = this.clock.nowUs();
    const running = this.pool.tryRun(inputs, outputsForBatch(this.layout, requests));
    if (!running) {
      this.batchEnded(run);
      batchSpan?.end();
      this.failBatch(requests, new MpError('MP_INTERNAL', 'no idle instance for a formed batch'));
      this.notifyIfIdle();
      return;
    }
    running.then(
      (outputs) => {
        this.batchEnded(run);
        const inferEndUs = this.clock.nowUs();
        const inferUs = inferEndUs - inferStartUs;
        const computeUs = inferEndUs - startUs;
        this.batchTimer.record(rows, computeUs);
        try {
          // The instance starts on the next batch before this one's answers go out.
          this.schedulePump();
        } finally {
          // Requests learn their compute time before they are answered (for logs and traces).
          for (const r of requests) {
            r.computeUs = computeUs;
            r.batchRows = rows;
          }
          this.stats.outputsComputed(outputs);
          this.answerInSlices({ requests, outputs, padLengths, rows, computedAtUs: inferEndUs }, 0);
          this.stats.batchExecuted(rows, requests.length, {
            inputUs: inferStartUs - startUs,
            inferUs,
            outputUs: this.clock.nowUs() - inferEndUs,
          });
          batchSpan?.end();
          this.notifyIfIdle();
        }
      },
      (err: unknown) => {
        this.batchEnded(run);
        this.schedulePump();
        batchSpan?.end();
        this.failBatch(requests, err);
        this.notifyIfIdle();
      },
    );
  }

  /**
   * Answers a finished batch ANSWER_SLICE requests at a time, letting the I/O received meanwhile be
   * handled between slices (Clock.defer). Each answer runs the request's response path on this
   * thread; 64 of them at once held the event loop for milliseconds (more while the instance thread
   * shares its core), and every refusal and arrival waited behind them.
   */
  private answerInSlices(batch: FinishedBatch, first: number): void {
    const { requests } = batch;
    const defer = this.clock.defer;
    const end = defer ? Math.min(requests.length, first + ANSWER_SLICE) : requests.length;
    try {
      scatterOutputs(this.layout, requests, batch.outputs, batch.padLengths, first, end);
    } catch (err) {
      this.failBatch(requests, err);
      return;
    }
    if (end >= requests.length || !defer) {
      this.answerTimer.record(batch.rows, this.clock.nowUs() - batch.computedAtUs);
      return;
    }
    this.answering++;
    defer(() => {
      this.answering--;
      this.answerInSlices(batch, end);
      this.notifyIfIdle();
    });
  }

  private batchEnded(run: { startUs: number; rows: number }): void {
    const i = this.running.indexOf(run);
    if (i >= 0) this.running.splice(i, 1);
  }

  private fullBatchBudgetUs(): number {
    return this.batchTimer.budgetUs(this.rowsPerBatch);
  }

  /** A pessimistic time from the start of a batch of `rows` until its last answer is out. */
  private answeredBudgetUs(rows: number): number {
    return this.batchTimer.budgetUs(rows) + this.answerTimer.budgetUs(rows);
  }

  private failBatch(requests: readonly InferenceRequest[], err: unknown): void {
    const error = isMpError(err) ? err : new MpError('MP_BACKEND', `inference failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    for (const r of requests) r.reject(error);
  }

  /**
   * Rejects every queued request that can no longer be answered by its deadline (while every
   * instance is busy: the deadline less one batch's pessimistic execution time has passed) and
   * finds the next such moment. A timeout bounds the whole answer, not only the wait: running a
   * request that will be late anyway wastes a batch slot.
   */
  private expire(nowUs: number): void {
    let next = NO_DEADLINE;
    // With an instance free and room in its batch for everyone queued, a request may as well run
    // late: no one would take its place, so only one already past its deadline goes. Otherwise it
    // needs a batch's time and its answers' (of the batch the queue would make now): under overload
    // batches form the moment an instance frees, and a request that can only be answered late gives
    // its place to one that can still be answered in time.
    const queuedRows = this.queuedRows();
    const lenient = this.pool.hasIdle() && queuedRows <= this.idleRows();
    const batchRows = Math.min(queuedRows, this.rowsPerBatch);
    const slackUs = this.answeredBudgetUs(batchRows);
    for (const q of this.queues) {
      for (let i = 0; i < q.length; i++) {
        const r = q.at(i)!;
        if (r.settled || r.deadlineUs === 0) continue;
        const lastStartUs = r.deadlineUs - slackUs;
        if ((lenient ? r.deadlineUs : lastStartUs) <= nowUs) {
          this.forget(r);
          r.reject(new MpError('MP_QUEUE_TIMEOUT', `request timed out after ${nowUs - r.enqueuedAtUs} µs in the queue`));
        } else {
          const checkAtUs = lastStartUs > nowUs ? lastStartUs : r.deadlineUs;
          if (checkAtUs < next) next = checkAtUs;
        }
      }
    }
    this.nextDeadlineUs = next;
    this.notifyIfIdle();
  }

  /** Bookkeeping for a request leaving the queue (dispatched, expired, cancelled): it is no longer QUEUED. */
  private forget(r: InferenceRequest): void {
    this.liveCount[r.levelIndex]!--;
    this.liveRows[r.levelIndex]! -= r.batchSize;
    this.totalLive--;
    r.phase = RUNNING;
  }

  /** Rows the idle instances can take at once: one batch each. */
  private idleRows(): number {
    return this.rowsPerBatch * (this.pool.size - this.pool.busy);
  }

  /** Rows in the batches running now (one per busy instance: a handful at most). */
  private runningRows(): number {
    let rows = 0;
    for (const run of this.running) rows += run.rows;
    return rows;
  }

  private queuedRows(): number {
    let rows = 0;
    for (const r of this.liveRows) rows += r;
    return rows;
  }

  /** Rows queued or running now. */
  private loadRows(): number {
    return this.runningRows() + this.queuedRows();
  }

  /**
   * How long until a request submitted now at this level is answered: until an instance frees (the
   * earliest running batch's expected end), a batch per full wave queued ahead, its own batch, and
   * its batch's answers going out. Pessimistic times, so that what is admitted is answered in time.
   */
  private estimatedWaitUs(levelIndex: number, rows: number): number {
    if (!this.batchTimer.known) return 0;
    let rowsAhead = 0;
    for (let i = 0; i <= levelIndex; i++) rowsAhead += this.liveRows[i]!;
    // Nothing ahead and an instance free: it runs at once, the best anyone can do. (Also keeps a
    // stale estimate from refusing everything forever: only batches that run refresh it.)
    if (rowsAhead === 0 && this.pool.hasIdle()) return 0;
    const maxBatch = this.rowsPerBatch;
    const timer = this.batchTimer;
    let untilFreeUs = 0;
    if (!this.pool.hasIdle()) {
      untilFreeUs = Number.POSITIVE_INFINITY;
      const nowUs = this.clock.nowUs();
      for (const run of this.running) untilFreeUs = Math.min(untilFreeUs, Math.max(0, run.startUs + timer.budgetUs(run.rows) - nowUs));
      if (untilFreeUs === Number.POSITIVE_INFINITY) untilFreeUs = 0;
    }
    const fullWaves = Math.floor(rowsAhead / (maxBatch * this.pool.size));
    const ownBatchRows = Math.min(maxBatch, (rowsAhead % maxBatch) + rows);
    return untilFreeUs + fullWaves * timer.budgetUs(maxBatch) + this.answeredBudgetUs(ownBatchRows);
  }

  private armTimer(nowUs: number, waitUs: number): void {
    const at = nowUs + Math.max(1, Math.min(waitUs, this.nextDeadlineUs - nowUs));
    if (this.timer !== undefined && this.timerAtUs <= at) return;
    this.disarmTimer();
    if (at - nowUs >= Number.MAX_SAFE_INTEGER / 2) return;
    this.timerAtUs = at;
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      this.timerAtUs = NO_DEADLINE;
      this.pump();
    }, at - nowUs);
  }

  private disarmTimer(): void {
    if (this.timer === undefined) return;
    this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAtUs = NO_DEADLINE;
  }

  private notifyIfIdle(): void {
    if (this.totalLive !== 0 || this.pool.busy !== 0 || this.answering !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
