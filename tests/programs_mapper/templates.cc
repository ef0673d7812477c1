// templates.cc: the C++ shapes of code the mapper must name and count:
// function and class templates with several instantiations (one source
// line, several functions), lambdas, constructors and destructors (gcc
// emits C1/C2 as one body), virtual functions, operators, a namespace, a
// function-local static and a member function that never runs.
//
// usage: templates [N]   (N defaults to 6)
#include <cstdio>
#include <cstdlib>

namespace geo {

template <typename T>
T largest(const T* values, int count)
{
  T best = values[0];
  for (int i = 1; i < count; i++)
    if (values[i] > best)
      best = values[i];
  return best;
}

template <typename T, int Capacity>
class Ring {
 public:
  bool push(T value)
  {
    if (size_ == Capacity)
      return false;
    items_[(start_ + size_++) % Capacity] = value;
    return true;
  }
  bool pop(T* out)
  {
    if (size_ == 0)
      return false;
    *out = items_[start_];
    start_ = (start_ + 1) % Capacity;
    size_--;
    return true;
  }
  int size() const { return size_; }

 private:
  T items_[Capacity];
  int start_ = 0, size_ = 0;
};

struct Vec {
  int x, y;
  Vec(int x_, int y_) : x(x_), y(y_) {}
  Vec operator+(const Vec& o) const { return Vec(x + o.x, y + o.y); }
  bool operator==(const Vec& o) const { return x == o.x && y == o.y; }
};

class Animal {
 public:
  explicit Animal(const char* name) : name_(name) { ++count_; }
  virtual ~Animal() { --count_; }
  virtual int legs() const = 0;
  virtual const char* sound() const { return "..."; }
  const char* name() const { return name_; }
  static int count() { return count_; }

 private:
  const char* name_;
  static int count_;
};
int Animal::count_ = 0;

class Dog : public Animal {
 public:
  Dog() : Animal("dog") {}
  int legs() const override { return 4; }
  const char* sound() const override { return "woof"; }
};

class Bird : public Animal {
 public:
  Bird() : Animal("bird") {}
  int legs() const override { return 2; }
  void fly() const { std::printf("%s flies\n", name()); }
};

}  // namespace geo

static int next_id()
{
  static int id = std::rand() % 1 + 100;
  return id++;
}

template <typename F>
static int apply_n(F f, int n)
{
  int total = 0;
  for (int i = 0; i < n; i++)
    total += f(i);
  return total;
}

int main(int argc, char** argv)
{
  int n = argc > 1 ? std::atoi(argv[1]) : 6;
  int ints[] = {3, 9, 2, n};
  double reals[] = {1.5, -2.0, 0.25};
  std::printf("%d %.2f\n", geo::largest(ints, 4), geo::largest(reals, 3));

  geo::Ring<int, 4> ring;
  for (int i = 0; i < n; i++)
    if (!ring.push(i))
      std::printf("ring full at %d\n", i);
  int v = 0;
  while (ring.pop(&v))
    std::printf("%d ", v);
  std::printf("\n");
  geo::Ring<char, 2> letters;
  letters.push('a');

  geo::Vec a(1, 2), b(3, 4);
  geo::Vec c = a + b;
  std::printf("%s\n", c == geo::Vec(4, 6) ? "sum ok" : "sum wrong");

  int scale = 3;
  auto times = [scale](int x) { return x * scale; };
  auto odd = [](int x) { return x % 2 ? 1 : 0; };
  std::printf("%d %d\n", apply_n(times, n), apply_n(odd, n));

  geo::Animal* animals[] = {new geo::Dog(), new geo::Dog()};
  for (geo::Animal* animal : animals)
    std::printf("%s %d %s\n", animal->name(), animal->legs(), animal->sound());
  std::printf("%d animals, id %d %d\n", geo::Animal::count(), next_id(), next_id());
  for (geo::Animal* animal : animals)
    delete animal;
  return geo::Animal::count();
}
