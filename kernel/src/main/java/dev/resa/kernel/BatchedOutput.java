package dev.resa.kernel;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A cell's stdout or stderr, sent to Jupyter in batches. jjava sends one stream message per flush, and
 * {@code System.out.println} flushes every line: a cell printing 10 MB in 1 KB lines sent 10,240 messages, more than
 * ZeroMQ queues for a subscriber (1,000), so output and even the idle status were dropped and the client hung.
 * Here output is forwarded at most every {@link #PERIOD_MS} (or when {@link #MAX_BYTES} pile up), as ipykernel does.
 */
final class BatchedOutput extends OutputStream {
  /** Longest time printed text waits before it is sent (ms); ipykernel's flush interval is 200 ms. */
  static final long PERIOD_MS = 50;
  /** Pending bytes that are sent at once, without waiting. */
  static final int MAX_BYTES = 1 << 20;

  private static final ScheduledExecutorService TIMER = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "resa-output-batcher");
    t.setDaemon(true);
    return t;
  });

  private final PrintStream target;
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
  private final ScheduledFuture<?> ticks;

  BatchedOutput(PrintStream target) {
    this.target = target;
    ticks = TIMER.scheduleWithFixedDelay(this::send, PERIOD_MS, PERIOD_MS, TimeUnit.MILLISECONDS);
  }

  @Override
  public synchronized void write(int b) {
    pending.write(b);
    if (pending.size() >= MAX_BYTES) sendWholeLines();
  }

  @Override
  public synchronized void write(byte[] b, int off, int len) {
    pending.write(b, off, len);
    if (pending.size() >= MAX_BYTES) sendWholeLines();
  }

  @Override
  public void flush() {
    // sent by the timer within PERIOD_MS, or at the end of the cell
  }

  /** Sends what is pending now. */
  synchronized void send() {
    if (pending.size() == 0) return;
    target.write(pending.toByteArray(), 0, pending.size());
    target.flush();
    pending.reset();
  }

  /** Sends up to the last newline, so a multi-byte character is never split between two messages. */
  private void sendWholeLines() {
    byte[] bytes = pending.toByteArray();
    int cut = bytes.length;
    while (cut > 0 && bytes[cut - 1] != '\n') cut--;
    if (cut == 0) cut = bytes.length;
    target.write(bytes, 0, cut);
    target.flush();
    pending.reset();
    pending.write(bytes, cut, bytes.length - cut);
  }

  /** Sends the rest and stops the timer (end of the cell). */
  @Override
  public void close() {
    ticks.cancel(false);
    send();
  }
}
