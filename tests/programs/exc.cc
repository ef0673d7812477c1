// C++ exceptions: throws through several frames, catches by type, rethrow;
// the unwinder runs outside the traced code and lands in catch blocks.
#include <cstdio>
#include <stdexcept>

static int depth(int n) {
  if (n == 0)
    throw std::runtime_error("bottom");
  return depth(n - 1) + 1;
}

static int guarded(int n) {
  try {
    return depth(n);
  } catch (const std::runtime_error &e) {
    return -n;
  }
}

static int rethrows(int v) {
  try {
    throw v;
  } catch (int) {
    throw;
  }
}

int main() {
  int s = 0;
  for (int i = 0; i < 3; i++)
    s += guarded(i);
  try {
    rethrows(42);
  } catch (int v) {
    s += v;
  } catch (...) {
    s = -1;
  }
  std::printf("s=%d\n", s);
  return 0;
}
