// wharf: the command-line client of wharfd. Everything but the version lives in wharf/cli.
#include "wharf/cli/cli.h"

int main(int argc, char** argv) { return wharf::cli::Main(argc, argv, WHARF_VERSION); }
