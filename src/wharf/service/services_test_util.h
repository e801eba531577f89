// For tests: a content store, SQLite (images, jobs, users) and a download queue in a temporary
// directory (removed at the end), with one fetcher for docker jobs, and the service objects over
// them, wired as the daemon wires them except that the queue's after-job callback does nothing
// (so that tests see what a client sees before it runs). The queue publishes its events on
// `events`.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "wharf/base/file_util.h"
#include "wharf/metadata/database.h"
#include "wharf/metadata/image_store.h"
#include "wharf/metadata/job_store.h"
#include "wharf/metadata/user_store.h"
#include "wharf/service/collector.h"
#include "wharf/service/downloads.h"
#include "wharf/service/local_images.h"
#include "wharf/service/remote_images.h"

namespace wharf::service {

struct TestServices {
  explicit TestServices(pull::Fetcher& fetcher)
      : root(std::filesystem::temp_directory_path() / ("wharf-services-test-" + RandomHex(8))),
        store(std::move(content::BlobStore::Open(root).value())),
        database(std::move(metadata::Database::Open(root / "wharf.db").value())),
        images(*database),
        jobs(*database),
        local(*store, images, changes),
        collector(*store, images, pins, local, changes, nullptr, nullptr),
        queue(
            pull::QueueOptions{}, jobs, images, changes, [](bool, bool) {}, &events),
        remote(client, local, oci::Platform{"linux", "amd64", ""}),
        downloads(queue, nullptr, collector) {
    queue.AddFetcher("docker", &fetcher);
  }
  ~TestServices() {
    queue.Stop();
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
  }

  // Polls the download list (bounded) until it is empty: what an API client sees as done.
  bool WaitQueueEmpty() {
    for (int i = 0; i < 2000 && !downloads.List().empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return downloads.List().empty();
  }

  std::filesystem::path root;
  std::unique_ptr<content::BlobStore> store;
  std::unique_ptr<metadata::Database> database;
  metadata::ImageStore images;
  metadata::JobStore jobs;
  metadata::UserStore users{*database};
  registry::Client client{registry::Options{}};
  pull::BlobPins pins;
  pull::ImageChanges changes;
  pull::EventBus events;
  LocalImages local;
  Collector collector;
  pull::PullQueue queue;
  RemoteImages remote;
  Downloads downloads;
};

}  // namespace wharf::service
