package io.livemig.restore.service;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.livemig.common.agent.MigrationIds;
import io.livemig.common.security.Peer;
import io.livemig.proto.JournalEntry;
import io.livemig.proto.MigrationPhase;
import io.livemig.proto.PageRange;
import io.livemig.proto.PostcopyDone;
import io.livemig.proto.PostcopyFrame;
import io.livemig.proto.PostcopyRequest;
import io.livemig.restore.RestoreLimits;
import io.livemig.restore.handoff.Handoffs;
import io.livemig.restore.postcopy.LazyPages;
import io.livemig.restore.validation.InvalidFrameException;
import java.io.IOException;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * One post-copy stream from a dump agent: its first frame names the migration (which that
 * agent must have opened), then pages answer what the copy's page server asked for. If the
 * stream ends before the copy holds every page, the copy is removed: it lacks memory only the
 * source had.
 */
final class PostcopyStream implements StreamObserver<PostcopyFrame>,
    LazyPages.SourceLink {
  private static final Logger LOG = Logger.getLogger(PostcopyStream.class.getName());
  private static final int MAX_BATCH = RestoreLimits.MAX_BATCH_CHUNKS;

  private final Handoffs handoffs;
  private final Peer peer;
  private final StreamObserver<PostcopyRequest> out;
  private LazyPages server;
  private boolean ended;

  PostcopyStream(Handoffs handoffs, Peer peer, StreamObserver<PostcopyRequest> out) {
    this.handoffs = handoffs;
    this.peer = peer;
    this.out = out;
  }

  @Override
  public void onNext(PostcopyFrame frame) {
    if (ended) {
      return;
    }
    try {
      switch (frame.getFrameCase()) {
        case MIGRATION_ID -> open(frame.getMigrationId());
        case PAGES -> {
          if (server == null) {
            throw new InvalidFrameException("post-copy pages before the migration id");
          }
          if (frame.getPages().getChunksCount() > MAX_BATCH) {
            throw new InvalidFrameException("post-copy frame of "
                + frame.getPages().getChunksCount() + " runs (at most " + MAX_BATCH + ")");
          }
          server.chunks(frame.getPages().getChunksList());
          taken();
        }
        default -> throw new InvalidFrameException("empty post-copy frame");
      }
    } catch (InvalidFrameException e) {
      end(Status.INVALID_ARGUMENT.withDescription(e.getMessage()));
    } catch (SecurityException e) {
      end(Status.PERMISSION_DENIED.withDescription(e.getMessage()));
    } catch (IllegalArgumentException e) {
      end(Status.FAILED_PRECONDITION.withDescription(e.getMessage()));
    } catch (IOException e) {
      end(Status.INTERNAL.withDescription("post-copy: " + e.getMessage()));
    }
  }

  private void open(String id) throws InvalidFrameException {
    if (server != null) {
      throw new InvalidFrameException("post-copy stream names its migration twice");
    }
    if (!MigrationIds.isValid(id)) {
      throw new InvalidFrameException("migration id '" + id + "' is not valid");
    }
    LazyPages s;
    try {
      s = handoffs.postcopy(id, peer);
    } catch (IllegalArgumentException none) {
      Optional<JournalEntry> settled = handoffs.settled(id, peer);
      if (settled.isPresent() && settled.get().getPhase() == MigrationPhase.RESUMED) {
        // Finished while the source was away: its copy holds every page.
        done(PostcopyDone.getDefaultInstance());
        return;
      }
      if (settled.isPresent()) {
        throw new IllegalArgumentException("migration " + id + " is " + settled.get()
            .getPhase() + " on the destination: " + settled.get().getDetail());
      }
      throw none;
    }
    server = s;
    s.attach(this);
    LOG.info("post-copy stream of " + id + " from " + peer);
  }

  private synchronized void end(Status status) {
    if (!ended) {
      ended = true;
      out.onError(status.asRuntimeException());
    }
    if (server != null) {
      server.sourceLost("post-copy stream: " + status.getDescription());
    }
  }

  @Override
  public void onError(Throwable t) {
    ended = true;
    if (server != null) {
      server.detached(this, "the source's post-copy stream failed: " + Status.fromThrowable(t));
    }
  }

  @Override
  public void onCompleted() {
    if (server != null) {
      server.detached(this, "the source ended its post-copy stream");
    }
  }

  @Override
  public synchronized void end(String why) {
    if (!ended) {
      ended = true;
      out.onError(Status.UNAVAILABLE.withDescription(why).asRuntimeException());
    }
  }

  /** A frame of pages is in: the source's scan may go on (see its ScanWindow). */
  private synchronized void taken() {
    if (!ended) {
      out.onNext(PostcopyRequest.newBuilder().setTaken(1).build());
    }
  }

  @Override
  public synchronized void demand(PageRange pages) {
    if (!ended) {
      out.onNext(PostcopyRequest.newBuilder().setDemand(pages).build());
    }
  }

  @Override
  public synchronized void progress(long pagesInstalled) {
    if (!ended) {
      out.onNext(PostcopyRequest.newBuilder().setInstalled(pagesInstalled).build());
    }
  }

  @Override
  public synchronized void done(PostcopyDone done) {
    if (!ended) {
      ended = true;
      out.onNext(PostcopyRequest.newBuilder().setDone(done).build());
      out.onCompleted();
    }
  }
}
