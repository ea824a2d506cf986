package dev.resa.kernel;

import java.util.List;
import java.util.Map;
import org.dflib.jjava.jupyter.kernel.HelpLink;
import org.dflib.jjava.jupyter.kernel.LanguageInfo;
import org.dflib.jjava.jupyter.messages.ContentType;
import org.dflib.jjava.jupyter.messages.MessageType;
import org.dflib.jjava.jupyter.messages.ReplyType;
import org.dflib.jjava.jupyter.messages.reply.CommInfoReply;
import org.dflib.jjava.jupyter.messages.reply.KernelInfoReply;
import org.dflib.jjava.jupyter.messages.request.ExecuteRequest;
import org.dflib.jjava.jupyter.messages.request.HistoryRequest;

/**
 * Reply contents jjava 1.0-a6 sends without the {@code status} field that messaging spec 5.3 requires of every
 * reply (kernel_info, history, comm_info), and the {@code aborted} execute_reply jjava has no type for. Serialised by
 * jjava's gson, which writes a subclass's own fields next to the inherited ones.
 */
final class Replies {
  private Replies() {}

  static final class KernelInfo extends KernelInfoReply {
    final String status = "ok";

    KernelInfo(String protocolVersion, String name, String version, LanguageInfo language, String banner,
        List<HelpLink> links) {
      super(protocolVersion, name, version, language, banner, links);
    }
  }

  /**
   * Each entry is {@code [session, line, input]}, or {@code [session, line, [input, output]]} when outputs were asked
   * for (output null when the cell had no result); jjava's own entry adapter cannot write that null.
   */
  static final class History implements ContentType<History>, ReplyType<HistoryRequest> {
    final String status = "ok";
    final List<List<Object>> history;

    History(List<List<Object>> history) {
      this.history = history;
    }

    @Override
    public MessageType<History> getType() {
      @SuppressWarnings("unchecked")
      MessageType<History> t = (MessageType<History>) (MessageType<?>) MessageType.HISTORY_REPLY;
      return t;
    }

    @Override
    public MessageType<HistoryRequest> getRequestType() {
      return MessageType.HISTORY_REQUEST;
    }
  }

  static final class CommInfo extends CommInfoReply {
    final String status = "ok";

    CommInfo(Map<String, CommInfoReply.CommInfo> comms) {
      super(comms);
    }
  }

  /** What an execute_request queued behind a failed cell gets when it asked for {@code stop_on_error} (as ipykernel). */
  static final class Aborted implements ContentType<Aborted>, ReplyType<ExecuteRequest> {
    final String status = "aborted";

    @Override
    public MessageType<Aborted> getType() {
      @SuppressWarnings("unchecked")
      MessageType<Aborted> t = (MessageType<Aborted>) (MessageType<?>) MessageType.EXECUTE_REPLY;
      return t;
    }

    @Override
    public MessageType<ExecuteRequest> getRequestType() {
      return MessageType.EXECUTE_REQUEST;
    }
  }
}
