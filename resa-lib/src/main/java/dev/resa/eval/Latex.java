package dev.resa.eval;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cleans an extracted LaTeX answer down to the mathematics, the way math-verify's normaliser does: math-mode
 * delimiters, {@code \left}/{@code \right}, spacing commands, {@code \displaystyle}, {@code \dfrac}/{@code \tfrac},
 * degrees, percent and dollar signs, thousands separators, unit words in {@code \text{}} / {@code \mathrm{}},
 * and a leading "x =" is kept (the comparer decides what to do with equations). The result is still LaTeX,
 * ready for {@link ExprParser}.
 */
public final class Latex {
  private Latex() {}

  /** Unit words dropped when they follow a quantity (never when they are the whole answer). */
  static final Set<String> UNITS = Set.of(
      "cm", "mm", "km", "m", "meter", "meters", "metre", "metres", "centimeter", "centimeters", "kilometer", "kilometers",
      "inch", "inches", "in", "ft", "foot", "feet", "yard", "yards", "mile", "miles", "mph", "unit", "units",
      "square units", "sq units", "cubic units", "degree", "degrees", "radian", "radians", "rad", "second", "seconds",
      "sec", "s", "minute", "minutes", "min", "hour", "hours", "hr", "day", "days", "week", "weeks", "year", "years", "yr",
      "dollar", "dollars", "cent", "cents", "percent", "g", "kg", "gram", "grams", "pound", "pounds", "lb", "lbs",
      "ounce", "ounces", "liter", "liters", "l", "ml", "gallon", "gallons", "hz", "khz", "mhz", "ghz", "j", "kj", "ev",
      "kev", "mev", "erg", "ergs", "k", "pc", "kpc", "mpc", "au", "ly", "nm", "um", "angstrom", "angstroms", "a", "w",
      "kw", "n", "pa", "atm", "mol", "v", "times", "people", "students", "ways", "points", "cups", "pages", "sq", "am", "pm");

  private static final Pattern TEXT_CMD = Pattern.compile("\\\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|mbox|operatorname|mathsf|rm|bf)\\s*\\{");
  private static final Pattern THOUSANDS = Pattern.compile("(?<![\\d.])(\\d{1,3}(?:,\\d{3})+)(?![\\d,])");
  private static final Pattern MIXED = Pattern.compile("^(-?\\d+)\\s*\\\\frac\\{(\\d+)\\}\\{(\\d+)\\}$");
  private static final Pattern ESCAPED_SPACE = Pattern.compile("(?<!\\\\)\\\\ ");
  private static final Pattern DEGREES = Pattern.compile(
      "(\\^\\s*\\{\\s*\\\\circ\\s*\\}|\\^\\s*\\\\circ|\\\\circ|°|\\\\degree)\\s*(\\\\mathrm\\{[CF]\\}|[CF](?![A-Za-z]))?");
  private static final Pattern SECONDS_OF_ARC = Pattern.compile("\\^\\s*\\{\\s*\\\\prime\\s*\\\\prime\\s*\\}|''");
  private static final Pattern SPACES = Pattern.compile("\\s+");
  private static final Pattern SPACED_THOUSANDS = Pattern.compile("-?\\d{1,3}( \\d{3})+(\\.\\d+)?");
  private static final Pattern COMMA_THOUSANDS = Pattern.compile("-?\\d{1,3}(,\\d{3})+(\\.\\d+)?");
  private static final Pattern UNIT_POWER = Pattern.compile("^\\s*\\^\\s*(\\{[^}]*\\}|-?\\d)");
  private static final Pattern UNIT_PUNCTUATION = Pattern.compile("[\\\\{}^\\-\\d/()*]");
  private static final Pattern TRAILING_WORDS = Pattern.compile("^(.*[\\d}])\\s+([A-Za-z]{2,}(?:\\s+[A-Za-z]{2,})*)$");
  private static final Pattern SHORT_FRAC = Pattern.compile("\\\\frac\\s*(\\d)\\s*(\\d)");

  /** Normalised LaTeX of an answer. */
  public static String normalize(String raw) {
    String s = raw.strip();
    if (s.contains("\\boxed") || s.contains("\\fbox")) s = Answers.lastBoxed(s).orElse(s);
    s = stripDelimiters(s);
    s = s.replace("\\!", "").replace("\\,", " ").replace("\\;", " ").replace("\\:", " ").replace("\\>", " ")
        .replace("\\qquad", " ").replace("\\quad", " ").replace("~", " ")
        .replace("\\displaystyle", "").replace("\\textstyle", "").replace("\\limits", "");
    s = ESCAPED_SPACE.matcher(s).replaceAll(" ");
    s = s.replace("\\left", "").replace("\\right", "").replace("\\bigl", "").replace("\\bigr", "")
        .replace("\\Bigl", "").replace("\\Bigr", "").replace("\\big", "").replace("\\Big", "");
    s = s.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac").replace("\\cfrac", "\\frac")
        .replace("\\dbinom", "\\binom").replace("\\tbinom", "\\binom");
    s = DEGREES.matcher(s).replaceAll("");
    s = SECONDS_OF_ARC.matcher(s).replaceAll("");
    s = s.replace("\\%", "").replace("%", "").replace("\\$", "").replace("$", "");
    s = s.replace("{,}", "").replace("\\{,\\}", "");
    s = s.replace("\\cdot", "*").replace("\\times", "*").replace("\\div", "/").replace("\\ast", "*");
    s = s.replace("\\le ", "\\leq ").replace("\\ge ", "\\geq ").replace("\\neq", "\\ne");
    s = s.replace("\\lbrace", "\\{").replace("\\rbrace", "\\}").replace("\\lvert", "|").replace("\\rvert", "|")
        .replace("\\vert", "|").replace("\\mid", "|").replace("\\lfloor", "\\lfloor ").replace("\\infty", "\\infty ");
    s = unwrapText(s);
    s = SHORT_FRAC.matcher(s).replaceAll("\\\\frac{$1}{$2}");
    s = SPACES.matcher(s).replaceAll(" ").strip();
    s = dropTrailingUnits(s);
    Matcher thousands = THOUSANDS.matcher(s);
    if (thousands.find() && isSingleNumberWithSeparators(s)) s = s.replace(",", "");
    if (SPACED_THOUSANDS.matcher(s).matches()) s = s.replace(" ", "");
    Matcher mixed = MIXED.matcher(s);
    if (mixed.matches()) {
      String sign = mixed.group(1).startsWith("-") ? "-" : "";
      String whole = mixed.group(1).replace("-", "");
      s = sign + "(" + whole + "+\\frac{" + mixed.group(2) + "}{" + mixed.group(3) + "})";
    }
    if (s.endsWith(".")) s = s.substring(0, s.length() - 1).strip();
    return s;
  }

  private static boolean isSingleNumberWithSeparators(String s) {
    return COMMA_THOUSANDS.matcher(s).matches();
  }

  private static String stripDelimiters(String s) {
    boolean changed = true;
    while (changed) {
      changed = false;
      for (String[] d : new String[][] {{"$$", "$$"}, {"$", "$"}, {"\\(", "\\)"}, {"\\[", "\\]"}}) {
        if (s.length() >= d[0].length() + d[1].length() && s.startsWith(d[0]) && s.endsWith(d[1])) {
          s = s.substring(d[0].length(), s.length() - d[1].length()).strip();
          changed = true;
        }
      }
    }
    return s;
  }

  /** Replaces {@code \text{...}}-like commands by their content, dropping unit words that follow a quantity. */
  private static String unwrapText(String s) {
    StringBuilder out = new StringBuilder();
    int from = 0;
    Matcher m = TEXT_CMD.matcher(s);
    while (m.find(from)) {
      int open = m.end() - 1;
      int close = Answers.matchBrace(s, open);
      if (close < 0) break;
      out.append(s, from, m.start());
      String content = s.substring(open + 1, close).strip();
      String before = out.toString().strip();
      boolean quantityBefore = !before.isEmpty() && "0123456789}).".indexOf(before.charAt(before.length() - 1)) >= 0;
      if (quantityBefore && isUnit(content)) {
        int after = close + 1;
        Matcher exp = UNIT_POWER.matcher(s.substring(after));
        if (exp.find()) after += exp.end();
        from = after;
        continue;
      }
      out.append(content);
      from = close + 1;
    }
    out.append(s.substring(from));
    return out.toString();
  }

  private static boolean isUnit(String content) {
    String c = SPACES.matcher(UNIT_PUNCTUATION.matcher(content).replaceAll(" ")).replaceAll(" ").strip().toLowerCase();
    if (c.isEmpty()) return true;
    for (String word : c.split(" ")) if (!UNITS.contains(word)) return false;
    return true;
  }

  /** "5 cm", "12 dollars": removes plain unit words (two letters or more) after a number. */
  private static String dropTrailingUnits(String s) {
    Matcher m = TRAILING_WORDS.matcher(s);
    if (m.matches() && isUnit(m.group(2))) return m.group(1).strip();
    return s;
  }
}
