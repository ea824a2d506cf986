package dev.resa.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the raw Javadoc JShell returns ({@code {@code x}}, {@code <p>}, {@code @param} ...) into Markdown and plain
 * text for Shift-Tab. The summary is the description before the block tags; the full form adds parameters, return
 * value and exceptions. (The JDK's own formatter, jdk.internal.shellsupport.doc.JavadocFormatter, is not exported.)
 */
final class Javadoc {
  private Javadoc() {}

  private static final Pattern INLINE = Pattern.compile("\\{@(code|literal|link|linkplain|value)\\s+([^}]*)}");
  private static final Pattern BLOCK = Pattern.compile("(?m)^\\s*@(\\w+)\\s*");

  /** Markdown for one signature and its Javadoc ({@code javadoc} may be null). */
  static String markdown(String signature, String javadoc, boolean full) {
    StringBuilder md = new StringBuilder("```java\n").append(signature).append("\n```\n");
    if (javadoc == null || javadoc.isBlank()) return md.toString();
    Parts p = split(javadoc);
    md.append('\n').append(inlineMarkdown(p.description)).append('\n');
    if (full && !p.tags.isEmpty()) {
      md.append('\n');
      for (String[] tag : p.tags) {
        String body = inlineMarkdown(tag[1]).replace('\n', ' ');
        md.append("- **@").append(tag[0]).append("** ").append(body).append('\n');
      }
    }
    return md.toString();
  }

  /** Plain text for one signature and its Javadoc. */
  static String plain(String signature, String javadoc, boolean full) {
    StringBuilder t = new StringBuilder(signature);
    if (javadoc == null || javadoc.isBlank()) return t.toString();
    Parts p = split(javadoc);
    t.append("\n\n").append(stripMarkup(inlinePlain(p.description)));
    if (full) for (String[] tag : p.tags) t.append("\n@").append(tag[0]).append(' ').append(stripMarkup(inlinePlain(tag[1])));
    return t.toString();
  }

  private record Parts(String description, List<String[]> tags) {}

  private static Parts split(String javadoc) {
    Matcher m = BLOCK.matcher(javadoc);
    List<String[]> tags = new ArrayList<>();
    int descriptionEnd = javadoc.length();
    String tag = null;
    int start = 0;
    while (m.find()) {
      if (tag == null) descriptionEnd = m.start();
      else tags.add(new String[] {tag, javadoc.substring(start, m.start()).strip()});
      tag = m.group(1);
      start = m.end();
    }
    if (tag != null) tags.add(new String[] {tag, javadoc.substring(start).strip()});
    return new Parts(javadoc.substring(0, descriptionEnd).strip(), tags);
  }

  private static String inlineMarkdown(String s) {
    String out = INLINE.matcher(s).replaceAll(r -> Matcher.quoteReplacement("`" + link(r.group(1), r.group(2)) + "`"));
    out = out.replaceAll("(?i)<p>\\s*", "\n\n").replaceAll("(?i)</?(code|tt)>", "`")
        .replaceAll("(?i)</?(b|strong)>", "**").replaceAll("(?i)</?(i|em)>", "*").replaceAll("(?i)<li>", "\n- ");
    return stripMarkup(out);
  }

  private static String inlinePlain(String s) {
    return INLINE.matcher(s).replaceAll(r -> Matcher.quoteReplacement(link(r.group(1), r.group(2))))
        .replaceAll("(?i)<p>\\s*", "\n\n").replaceAll("(?i)<li>", "\n- ");
  }

  /** {@code {@link Foo#bar(int) label}} shows the label, else {@code Foo.bar(int)}. */
  private static String link(String kind, String body) {
    String b = body.strip();
    if (!kind.startsWith("link")) return b;
    int paren = b.indexOf('('), space = b.indexOf(' ');
    int refEnd = paren >= 0 && (space < 0 || paren < space) ? Math.max(paren, b.indexOf(')', paren)) + 1
        : space < 0 ? b.length() : space;
    String ref = b.substring(0, Math.min(refEnd, b.length())), label = b.substring(Math.min(refEnd, b.length())).strip();
    if (!label.isEmpty()) return label;
    return ref.startsWith("#") ? ref.substring(1) : ref.replace('#', '.');
  }

  private static String stripMarkup(String s) {
    return s.replaceAll("<[^>]+>", "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        .replaceAll("[ \\t]*\\n[ \\t]*\\n\\s*", "\n\n").strip();
  }
}
