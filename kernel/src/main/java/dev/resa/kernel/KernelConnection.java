package dev.resa.kernel;

import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.channels.ShellChannel;
import org.dflib.jjava.jupyter.channels.ShellHandler;
import org.dflib.jjava.jupyter.channels.ShellReplyEnvironment;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;
import org.dflib.jjava.jupyter.messages.Message;
import org.dflib.jjava.jupyter.messages.MessageType;
import org.dflib.jjava.jupyter.messages.publish.PublishStatus;
import org.zeromq.ZMQ;

/**
 * jjava's connection with shell and control channels that block on their socket. jjava's own channels poll
 * without waiting and then sleep 50 ms after every turn, handled message or not: a request sent right after the
 * previous reply (Run All, nbconvert, a client asking for kernel_info) waited almost the full 50 ms, one sent at a
 * random moment 25 ms on average. Here a request is picked up as soon as it arrives (kernel_info round trip measured
 * 53 ms before, 13 ms after, on a loaded 2-core machine).
 */
final class KernelConnection extends JupyterConnection {
  private final KernelConnectionProperties props;
  private final ZMQ.Context context = ZMQ.context(1);
  private final ShellSocket shellSocket;
  private final ShellSocket controlSocket;
  private boolean connected;
  /** Set by the kernel after a failed cell with stop_on_error; the shell loop then aborts what is queued. */
  private volatile boolean abortQueued;

  KernelConnection(KernelConnectionProperties props) throws NoSuchAlgorithmException, InvalidKeyException {
    super(props);
    this.props = props;
    shellSocket = new ShellSocket(context, props, false, this);
    controlSocket = new ShellSocket(context, props, true, this);
  }

  /** Binds every channel (jjava's heartbeat, stdin and iopub; our shell and control) and announces the start. */
  @Override
  public synchronized void connect() {
    if (connected) return;
    heartbeat.bind(props);
    shellSocket.bind(props);
    controlSocket.bind(props);
    stdin.bind(props);
    iopub.bind(props);
    getIOPub().sendMessage(new Message<>(null, PublishStatus.MESSAGE_TYPE, PublishStatus.STARTING));
    connected = true;
  }

  /** After the current request: answer every execute_request already queued with status "aborted" (as ipykernel). */
  void abortQueuedExecutes() {
    abortQueued = true;
  }

  private boolean takeAbort() {
    boolean a = abortQueued;
    abortQueued = false;
    return a;
  }

  @Override
  public void close() {
    shellSocket.close();
    controlSocket.close();
    super.close(); // jjava's channels (its unbound shell and control included) and their context
    context.close();
  }

  @Override
  public void waitUntilClose() {
    shellSocket.waitUntilClose();
    controlSocket.waitUntilClose();
    super.waitUntilClose();
  }

  /** A shell (or control) channel whose thread waits on the socket and handles each request when it arrives. */
  static final class ShellSocket extends ShellChannel {
    /** How long one wait lasts before the thread checks whether it should stop (ms); not a latency. */
    private static final long WAIT_MS = 100;

    private final boolean isControl;
    private final JupyterConnection connection;
    private volatile Thread loop;
    private volatile boolean running;

    ShellSocket(ZMQ.Context context, KernelConnectionProperties props, boolean isControl, JupyterConnection connection)
        throws NoSuchAlgorithmException, InvalidKeyException {
      super(context, props.createHMACGenerator(), isControl, connection);
      this.isControl = isControl;
      this.connection = connection;
    }

    @Override
    public synchronized void bind(KernelConnectionProperties props) {
      if (loop != null) throw new IllegalStateException((isControl ? "control" : "shell") + " channel already bound");
      bind(formatAddress(props.getTransport(), props.getIp(), isControl ? props.getControlPort() : props.getShellPort()));
      running = true;
      loop = new Thread(this::serve, isControl ? "resa-control" : "resa-shell");
      loop.start();
    }

    private void serve() {
      ZMQ.Poller poller = ctx.poller(1);
      poller.register(this, ZMQ.Poller.POLLIN);
      try {
        while (running) {
          if (poller.poll(WAIT_MS) <= 0 || !running) continue;
          Message<?> message;
          try {
            message = readMessage();
          } catch (RuntimeException e) { // e.g. a bad signature: drop the message, keep serving
            logger.warn("Dropped an unreadable message: {}", e.toString());
            continue;
          }
          handle(message, poller);
        }
      } finally {
        poller.close();
      }
    }

    /**
     * Replies "aborted" to the execute requests already waiting on the socket (a Run All sends every cell at once);
     * serves other requests as usual. A request sent after the error reply runs normally (ipykernel's default,
     * stop_on_error_timeout = 0).
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private void abortQueued(ZMQ.Poller poller) {
      while (running && poller.poll(0) > 0) {
        Message message;
        try {
          message = readMessage();
        } catch (RuntimeException e) {
          continue;
        }
        if (message.getHeader().getType() != MessageType.EXECUTE_REQUEST) {
          handle(message, poller);
          continue;
        }
        ShellReplyEnvironment env = connection.prepareReplyEnv(this, message);
        env.setBusyDeferIdle();
        env.reply(new Replies.Aborted());
        env.resolveDeferrals();
      }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void handle(Message message, ZMQ.Poller poller) {
      ShellHandler handler = connection.getHandler(message.getHeader().getType());
      if (handler == null) {
        logger.warn("Unhandled message: {}", message.getHeader().getType().getName());
        return;
      }
      ShellReplyEnvironment env = connection.prepareReplyEnv(this, message);
      try {
        handler.handle(env, message);
      } catch (Exception e) {
        logger.warn("Unhandled exception handling {}: {}", message.getHeader().getType().getName(), e.toString());
      } finally {
        // Aborts come before the failed cell's own reply and idle status: a client that sends one request at a time
        // waits for that idle status, so nothing it sends next can be mistaken for part of the Run All.
        if (!isControl && connection instanceof KernelConnection k && k.takeAbort()) abortQueued(poller);
        env.resolveDeferrals(); // execute_reply and the idle status
      }
      if (env.isMarkedForShutdown()) connection.close();
    }

    @Override
    public void close() {
      running = false;
      Thread t = loop;
      if (t != null && t != Thread.currentThread()) {
        try {
          t.join(10 * WAIT_MS); // the loop owns the socket until it stops waiting on it
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (!closed) super.close();
    }

    @Override
    public void waitUntilClose() {
      Thread t = loop;
      if (t == null || t == Thread.currentThread()) return;
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
