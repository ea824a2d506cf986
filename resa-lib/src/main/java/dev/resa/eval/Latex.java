package dev.resa.eval;

import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Cleans an extracted LaTeX answer down to the mathematics, the way math-verify's normaliser does: math-mode
 * delimiters, {@code \left}/{@code \right}, spacing commands, {@code \displaystyle}, {@code \dfrac}/{@code \tfrac},
 * degrees, percent signs and words, currency signs, thousands separators ({@code 3,150,000}, {@code 2 000},
 * {@code 10{,}000}), base subscripts ({@code 1011_2} is read as its digits), unit words in {@code \text{}} /
 * {@code \mathrm{}} / {@code \textnormal{}} or after a number, array environments as matrices, mixed numbers
 * ({@code 3\frac{1}{2}}, {@code 4 4/9}); a leading "x =" is kept (the comparer decides what to do with equations).
 * The result is still LaTeX, ready for {@link Structure}; {@link #parse} also reports the units and the percent.
 */
public final class Latex {
  private Latex() {}

  /**
   * A normalised answer: its mathematics, the unit words dropped from it (canonical, space-separated, empty when
   * none or only generic words such as "units"), and whether it was written as a percent ({@code 35\%},
   * {@code 35 pct}, {@code 35 percent}).
   */
  public record Answer(String math, String unit, boolean percent) {}

  /** Canonical names of specific units, so "5 cm" and "5 m" differ while "5 cm" and "5 centimeters" agree. */
  private static final Map<String, String> CANONICAL_UNIT = Map.ofEntries(
      Map.entry("centimeter", "cm"), Map.entry("centimetre", "cm"), Map.entry("millimeter", "mm"), Map.entry("meter", "m"),
      Map.entry("metre", "m"), Map.entry("kilometer", "km"), Map.entry("kilometre", "km"), Map.entry("inch", "in"),
      Map.entry("inche", "in"), Map.entry("foot", "ft"), Map.entry("feet", "ft"), Map.entry("yard", "yd"),
      Map.entry("mile", "mi"), Map.entry("second", "s"), Map.entry("sec", "s"), Map.entry("minute", "min"),
      Map.entry("hour", "h"), Map.entry("hr", "h"), Map.entry("year", "yr"), Map.entry("gram", "g"),
      Map.entry("kilogram", "kg"), Map.entry("pound", "lb"), Map.entry("liter", "l"), Map.entry("litre", "l"),
      Map.entry("milliliter", "ml"), Map.entry("dollar", "usd"), Map.entry("cent", "cent"), Map.entry("ounce", "oz"),
      Map.entry("gallon", "gal"), Map.entry("degree", "deg"), Map.entry("radian", "rad"));
  /** Unit words that say nothing about which unit: never make two answers differ. */
  private static final Set<String> GENERIC_UNITS = Set.of(
      "unit", "units", "square", "sq", "cubic", "times", "people", "students", "ways", "points", "cups", "pages", "am", "pm",
      "percent", "a");

  /** Unit words dropped when they follow a quantity (never when they are the whole answer). */
  static final Set<String> UNITS = Set.of(
      "cm", "mm", "km", "m", "meter", "meters", "metre", "metres", "centimeter", "centimeters", "kilometer", "kilometers",
      "inch", "inches", "in", "ft", "foot", "feet", "yard", "yards", "mile", "miles", "mph", "unit", "units",
      "square units", "sq units", "cubic units", "degree", "degrees", "radian", "radians", "rad", "second", "seconds",
      "sec", "s", "minute", "minutes", "min", "hour", "hours", "hr", "day", "days", "week", "weeks", "year", "years", "yr",
      "dollar", "dollars", "cent", "cents", "percent", "g", "kg", "gram", "grams", "pound", "pounds", "lb", "lbs",
      "ounce", "ounces", "liter", "liters", "l", "ml", "gallon", "gallons", "hz", "khz", "mhz", "ghz", "j", "kj", "ev",
      "kev", "mev", "erg", "ergs", "k", "pc", "kpc", "mpc", "au", "ly", "nm", "um", "angstrom", "angstroms", "a", "w",
      "kw", "n", "pa", "atm", "mol", "v", "times", "people", "students", "ways", "points", "cups", "pages", "sq", "am", "pm",
      "h", "square", "cubic", "yd", "mi", "oz", "gal", "litre", "litres", "centimetre", "centimetres",
      "millimeter", "millimeters", "kilogram", "kilograms", "milliliter", "milliliters", "hrs");

  private static final Pattern TEXT_CMD = Pattern.compile("\\\\(?:text|textbf|textit|textrm|textnormal|textup|textsf|mathrm|mathbf|mathit|mbox|operatorname|mathsf|rm|bf)\\s*\\{");
  private static final Pattern THOUSANDS = Pattern.compile("(?<![\\d.])(\\d{1,3}(?:,\\d{3})+)(?![\\d,])");
  private static final Pattern MIXED = Pattern.compile("^(-?\\d+)\\s*\\\\frac\\{(\\d+)\\}\\{(\\d+)\\}$");
  private static final Pattern ESCAPED_SPACE = Pattern.compile("(?<!\\\\)\\\\ ");
  private static final Pattern DEGREES = Pattern.compile(
      "(\\^\\s*\\{\\s*\\\\circ\\s*\\}|\\^\\s*\\\\circ|\\\\circ|°|\\\\degree)\\s*(\\\\mathrm\\{[CF]\\}|[CF](?![A-Za-z]))?");
  private static final Pattern SECONDS_OF_ARC = Pattern.compile("\\^\\s*\\{\\s*\\\\prime\\s*\\\\prime\\s*\\}|''");
  private static final Pattern SPACES = Pattern.compile("\\s+");
  private static final Pattern SPACED_THOUSANDS = Pattern.compile("-?\\d{1,3}( \\d{3})+(\\.\\d+)?");
  private static final Pattern COMMA_THOUSANDS = Pattern.compile("-?[1-9]\\d{0,2}(,\\d{3})+(\\.\\d+)?");
  private static final Pattern UNIT_POWER = Pattern.compile("^\\s*\\^\\s*(\\{[^}]*\\}|-?\\d)");
  private static final Pattern UNIT_PUNCTUATION = Pattern.compile("[\\\\{}^\\-\\d/()*]");
  private static final Pattern COUNT_NOUN = Pattern.compile("[a-z]{3,}(?: [a-z]{3,}){0,2}");
  private static final Set<String> MATH_WORDS = Set.of(
      "and", "or", "not", "sin", "cos", "tan", "cot", "sec", "csc", "log", "exp", "sqrt", "infinity", "inf", "undefined",
      "none", "all", "real", "reals", "numbers", "integers", "even", "odd", "yes", "true", "false", "max", "min", "mod");
  private static final Pattern TRAILING_WORDS = Pattern.compile("^(.*[\\d}])\\s+([A-Za-z]{2,}(?:\\s+[A-Za-z]{2,})*)$");
  private static final Pattern SHORT_FRAC = Pattern.compile("\\\\frac\\s*(\\d)\\s*(\\d)");

  private static final Pattern PERCENT = Pattern.compile("\\\\%|%|\\bpercentage\\b|\\bpercent\\b|\\bpct\\b");
  private static final Pattern BASE_SUBSCRIPT = Pattern.compile("(?<![A-Za-z_\\\\\\d])(\\d+)_\\{?(\\d+)\\}?(?![\\d}])");
  private static final Pattern DOUBLE_BACKSLASH_COMMAND = Pattern.compile("\\\\\\\\(?=[A-Za-z])");
  private static final Pattern BARE_LE = Pattern.compile("\\\\(le|ge)(?![A-Za-z])");
  private static final Pattern THIN_SPACE_THOUSANDS = Pattern.compile(",\\\\!\\s*");
  private static final Pattern MIXED_PLAIN = Pattern.compile("^([-+]?)(\\d+) (\\d+)/(\\d+)$");
  private static final Pattern BRACKETED_MATRIX = Pattern.compile(
      "^[\\[(]\\s*(\\\\begin\\{[pbvB]?matrix\\}.*\\\\end\\{[pbvB]?matrix\\})\\s*[\\])]$", Pattern.DOTALL);
  private static final Pattern ARRAY = Pattern.compile("\\\\begin\\{array\\}\\s*\\{[^}]*\\}");

  /** Normalised LaTeX of an answer. */
  public static String normalize(String raw) {
    return parse(raw).math();
  }

  /** Normalises an answer and reports the units and percent sign it carried. */
  public static Answer parse(String raw) {
    String s = raw.strip();
    boolean percentAfterBox = false;
    if (s.contains("\\boxed") || s.contains("\\fbox")) {
      percentAfterBox = Answers.percentAfterLastBox(s); // a reference "... $\boxed{20}$ percent."
      s = Answers.joinedBoxes(s).orElse(s);
    }
    if (!s.contains("\\begin")) s = DOUBLE_BACKSLASH_COMMAND.matcher(s).replaceAll("\\\\");
    s = stripDelimiters(s);
    s = s.replace("**", "").replace("≤", "\\leq ").replace("≥", "\\geq ").replace("≠", "\\ne ").replace("−", "-")
        .replace("×", "*").replace("€", "").replace("£", "").replace("¥", "").replace("\\euro", "")
        .replace("≈", "\\approx ").replace("·", "*").replace("÷", "/").replace("√", "\\sqrt").replace("²", "^2")
        .replace("³", "^3");
    s = THIN_SPACE_THOUSANDS.matcher(s).replaceAll(",");
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
    Matcher pct = PERCENT.matcher(s);
    boolean percent = pct.find() || percentAfterBox;
    if (percent) s = pct.replaceAll("");
    s = s.replace("\\$", "").replace("$", "");
    s = s.replace("{,}", "").replace("\\{,\\}", "");
    s = s.replace("\\cdot", "*").replace("\\times", "*").replace("\\div", "/").replace("\\ast", "*");
    s = s.replace("\\neq", "\\ne").replace("!=", "\\ne ").replace("\\leqslant", "\\leq").replace("\\geqslant", "\\geq");
    s = BARE_LE.matcher(s).replaceAll("\\\\$1q");
    s = s.replace("\\lbrace", "\\{").replace("\\rbrace", "\\}").replace("\\lvert", "|").replace("\\rvert", "|")
        .replace("\\vert", "|").replace("\\mid", "|").replace("\\lfloor", "\\lfloor ").replace("\\infty", "\\infty ");
    s = ARRAY.matcher(s).replaceAll("\\\\begin{pmatrix}").replace("\\end{array}", "\\end{pmatrix}");
    StringBuilder units = new StringBuilder();
    s = unwrapText(s, units);
    s = SHORT_FRAC.matcher(s).replaceAll("\\\\frac{$1}{$2}");
    s = SPACES.matcher(s).replaceAll(" ").strip();
    s = dropTrailingUnits(s, units);
    Matcher thousands = THOUSANDS.matcher(s);
    if (thousands.find() && isSingleNumberWithSeparators(s)) s = s.replace(",", "");
    if (SPACED_THOUSANDS.matcher(s).matches()) s = s.replace(" ", "");
    s = BASE_SUBSCRIPT.matcher(s).replaceAll("$1");
    Matcher bracketed = BRACKETED_MATRIX.matcher(s);
    if (bracketed.matches()) s = bracketed.group(1);
    Matcher mixed = MIXED.matcher(s);
    if (mixed.matches()) {
      String sign = mixed.group(1).startsWith("-") ? "-" : "";
      String whole = mixed.group(1).replace("-", "");
      s = sign + "(" + whole + "+\\frac{" + mixed.group(2) + "}{" + mixed.group(3) + "})";
    }
    Matcher plainMixed = MIXED_PLAIN.matcher(s);
    if (plainMixed.matches()) {
      s = plainMixed.group(1) + "(" + plainMixed.group(2) + "+" + plainMixed.group(3) + "/" + plainMixed.group(4) + ")";
    }
    while ((s.endsWith(".") && !s.endsWith("..")) || s.endsWith(",")) s = s.substring(0, s.length() - 1).strip();
    return new Answer(s, units.toString().strip(), percent);
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
  private static String unwrapText(String s, StringBuilder units) {
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
      int after = close + 1;
      Matcher exp = UNIT_POWER.matcher(s.substring(after));
      if (exp.find()) after += exp.end();
      boolean last = s.substring(after).isBlank() || s.substring(after).strip().equals(".");
      if (quantityBefore && (isUnit(content) || (last && isCountNoun(content)))) { // "12 \text{ apples}"
        units.append(canonicalUnits(content)).append(' ');
        from = after;
        continue;
      }
      out.append(content);
      from = close + 1;
    }
    out.append(s.substring(from));
    return out.toString();
  }

  /**
   * Words naming what is counted ("apples", "red marbles") after a final quantity: dropped like units, so "12
   * apples" is 12 (and differs from "12 oranges"). Never a mathematical word ("pi", "and", "sin").
   */
  private static boolean isCountNoun(String content) {
    String c = content.strip().toLowerCase();
    if (!COUNT_NOUN.matcher(c).matches()) return false;
    for (String word : c.split(" +")) if (MATH_WORDS.contains(word)) return false;
    return true;
  }

  private static boolean isUnit(String content) {
    String c = SPACES.matcher(UNIT_PUNCTUATION.matcher(content).replaceAll(" ")).replaceAll(" ").strip().toLowerCase();
    if (c.isEmpty()) return true;
    for (String word : c.split(" ")) if (!UNITS.contains(word)) return false;
    return true;
  }

  /** "5 cm", "12 dollars": removes plain unit words (two letters or more) after a number. */
  private static String dropTrailingUnits(String s, StringBuilder units) {
    Matcher m = TRAILING_WORDS.matcher(s);
    if (m.matches() && (isUnit(m.group(2)) || isCountNoun(m.group(2)))) {
      units.append(canonicalUnits(m.group(2))).append(' ');
      return m.group(1).strip();
    }
    return s;
  }

  /** The specific unit words of a unit phrase, canonical ("Centimeters" -> "cm"); generic words are left out. */
  private static String canonicalUnits(String content) {
    String c = SPACES.matcher(UNIT_PUNCTUATION.matcher(content).replaceAll(" ")).replaceAll(" ").strip().toLowerCase();
    StringBuilder out = new StringBuilder();
    for (String word : c.split(" ")) {
      if (word.isEmpty() || GENERIC_UNITS.contains(word)) continue;
      String w = word;
      if (!CANONICAL_UNIT.containsKey(w) && w.length() > 3 && w.endsWith("s")) w = w.substring(0, w.length() - 1);
      out.append(CANONICAL_UNIT.getOrDefault(w, w)).append(' ');
    }
    return out.toString().strip();
  }
}
