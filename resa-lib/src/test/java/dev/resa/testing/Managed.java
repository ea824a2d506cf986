package dev.resa.testing;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dev.resa.core.Djl;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * Marks an {@link NDManager} field of a test class that JUnit opens (PyTorch, CPU, after {@link Djl#init()}) and
 * closes for you, the way {@code @TempDir} works: an instance field gets a fresh manager for each test, a static
 * field one manager for the whole class. It is open before the class's own {@code @BeforeEach}/{@code @BeforeAll}
 * methods run and closed after its {@code @AfterEach}/{@code @AfterAll} methods, so those may build on it.
 */
@Target(ElementType.FIELD)
@Retention(RetentionPolicy.RUNTIME)
@ExtendWith(Managed.Extension.class)
public @interface Managed {

  /** Opens and closes the {@link Managed} fields; instance fields around each test, static ones around the class. */
  final class Extension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
    @Override
    public void beforeAll(ExtensionContext c) throws IllegalAccessException {
      open(fields(c.getRequiredTestClass(), true), null);
    }

    @Override
    public void afterAll(ExtensionContext c) throws IllegalAccessException {
      close(fields(c.getRequiredTestClass(), true), null);
    }

    @Override
    public void beforeEach(ExtensionContext c) throws IllegalAccessException {
      open(fields(c.getRequiredTestClass(), false), c.getRequiredTestInstance());
    }

    @Override
    public void afterEach(ExtensionContext c) throws IllegalAccessException {
      close(fields(c.getRequiredTestClass(), false), c.getRequiredTestInstance());
    }

    private static List<Field> fields(Class<?> testClass, boolean statics) {
      return AnnotationSupport.findAnnotatedFields(testClass, Managed.class,
          f -> Modifier.isStatic(f.getModifiers()) == statics && f.getType() == NDManager.class);
    }

    private static void open(List<Field> fields, Object target) throws IllegalAccessException {
      for (Field f : fields) {
        f.setAccessible(true);
        f.set(target, Djl.newManager(Device.cpu()));
      }
    }

    private static void close(List<Field> fields, Object target) throws IllegalAccessException {
      for (Field f : fields) {
        f.setAccessible(true);
        NDManager m = (NDManager) f.get(target);
        if (m != null) m.close();
        f.set(target, null);
      }
    }
  }
}
