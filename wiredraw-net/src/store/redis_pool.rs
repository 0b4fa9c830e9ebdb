//! Connections to Redis, a single server or a Redis Cluster, behind one interface.
//!
//! The store builds every round trip as [`Commands`] (a pipeline that remembers which replies
//! it ignores). On a single server they run as one pipeline, one `MULTI`/`EXEC` transaction
//! when asked for. A cluster cannot run one pipeline across hash slots, so there the commands
//! are grouped by the slot of their key, each group runs as its own pipeline (its own
//! transaction when asked for and longer than one command) on the node owning that slot, all
//! groups at once, and the replies are put back in the original order.

use super::{Announcement, Announcements, StoreError};
use deadpool_redis::{Manager, Pool, PoolError, Runtime, cluster};
use futures_util::StreamExt;
use futures_util::future::try_join_all;
use redis::cluster_routing::Slot;
use redis::{
    Arg, AsyncConnectionConfig, Cmd, ErrorKind, FromRedisValue, Pipeline, RedisError,
    ServerErrorKind, ToRedisArgs, Value,
};
use rustc_hash::FxHashMap;
use std::time::Duration;

/// Announcements held for a slow reader before the subscription waits for it.
const ANNOUNCEMENT_BUFFER: usize = 1024;

/// Scheme of a cluster spec: `redis+cluster://[user:password@]host:port,host:port,…`.
pub const CLUSTER_SCHEME: &str = "redis+cluster://";

/// The node URLs a store spec names, and whether they form a cluster.
///
/// `redis://…` is one server. `redis+cluster://[creds@]h1:p1,h2:p2` lists seed nodes of a
/// cluster (any reachable one is enough; the rest of the cluster is discovered), each becoming
/// `redis://[creds@]hN:pN`.
pub(crate) fn node_urls(spec: &str) -> Result<(bool, Vec<String>), StoreError> {
    let Some(rest) = spec.strip_prefix(CLUSTER_SCHEME) else {
        return Ok((false, vec![spec.to_owned()]));
    };
    let (creds, hosts) = match rest.rsplit_once('@') {
        Some((creds, hosts)) => (format!("{creds}@"), hosts),
        None => (String::new(), rest),
    };
    let hosts = hosts.trim_end_matches('/');
    let urls: Vec<String> = hosts
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| format!("redis://{creds}{h}/"))
        .collect();
    if urls.is_empty() || hosts.contains('/') {
        return Err(StoreError::Config(format!(
            "cluster spec {spec:?} must look like {CLUSTER_SCHEME}host:port,host:port"
        )));
    }
    Ok((true, urls))
}

/// A batch of commands built like a [`Pipeline`] (`cmd`, `arg`, `ignore`, `atomic`).
#[derive(Default)]
pub(crate) struct Commands {
    pipe: Pipeline,
    ignored: Vec<bool>,
}

impl Commands {
    pub fn new() -> Commands {
        Commands::default()
    }

    pub fn cmd(&mut self, name: &str) -> &mut Commands {
        self.pipe.cmd(name);
        self.ignored.push(false);
        self
    }

    pub fn arg<T: ToRedisArgs>(&mut self, arg: T) -> &mut Commands {
        self.pipe.arg(arg);
        self
    }

    /// Drops the last command's reply from the answer.
    pub fn ignore(&mut self) -> &mut Commands {
        self.pipe.ignore();
        if let Some(last) = self.ignored.last_mut() {
            *last = true;
        }
        self
    }

    /// Runs as a transaction (per hash slot on a cluster).
    pub fn atomic(&mut self) -> &mut Commands {
        self.pipe.atomic();
        self
    }
}

/// The key a command touches, by the position it has in the commands the store sends
/// (`EVALSHA sha numkeys key…` has it third); `None` for keyless ones (`PING`, `SCRIPT LOAD`).
fn key_of(cmd: &Cmd) -> Option<&[u8]> {
    let mut args = cmd.args_iter().map(|arg| match arg {
        Arg::Simple(bytes) => bytes,
        _ => &[][..],
    });
    let name = args.next()?;
    let position = if name.eq_ignore_ascii_case(b"EVALSHA") || name.eq_ignore_ascii_case(b"EVAL") {
        2
    } else if name.eq_ignore_ascii_case(b"PING")
        || name.eq_ignore_ascii_case(b"SCRIPT")
        || name.eq_ignore_ascii_case(b"PUBLISH")
    {
        return None;
    } else {
        0
    };
    args.nth(position)
}

/// Pooled connections to one server or to a cluster.
pub(crate) enum Connections {
    Single(Pool),
    Cluster(cluster::Pool),
}

impl Connections {
    pub fn open(
        spec: &str,
        pool_size: usize,
        timeout: Duration,
    ) -> Result<Connections, StoreError> {
        let (is_cluster, urls) = node_urls(spec)?;
        let connect_timeout = timeout.min(Duration::from_secs(2));
        let bad_url = |e: RedisError| StoreError::Config(format!("redis url {spec:?}: {e}"));
        let bad_pool =
            |e: deadpool_redis::BuildError| StoreError::Config(format!("redis pool: {e}"));
        if is_cluster {
            let manager = cluster::Manager::new(urls, false).map_err(bad_url)?;
            let pool = cluster::Pool::builder(manager)
                .max_size(pool_size.max(1))
                .wait_timeout(Some(timeout))
                .create_timeout(Some(timeout))
                .recycle_timeout(Some(timeout))
                .runtime(Runtime::Tokio1)
                .build()
                .map_err(bad_pool)?;
            return Ok(Connections::Cluster(pool));
        }
        let settings = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(connect_timeout))
            .set_response_timeout(Some(timeout));
        let manager = Manager::new_with_config(spec, settings).map_err(bad_url)?;
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .wait_timeout(Some(timeout))
            .create_timeout(Some(connect_timeout))
            .recycle_timeout(Some(timeout))
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(bad_pool)?;
        Ok(Connections::Single(pool))
    }

    /// Runs the commands; the outer error is the pool's (no connection), the inner Redis's.
    pub async fn run<T: FromRedisValue>(
        &self,
        commands: &Commands,
    ) -> Result<Result<T, RedisError>, StoreError> {
        match self {
            Connections::Single(pool) => {
                let mut conn = pool.get().await.map_err(pool_error)?;
                Ok(commands.pipe.query_async(&mut conn).await)
            }
            Connections::Cluster(pool) => {
                let conn = pool.get().await.map_err(pool_error)?;
                let conn: cluster::ClusterConnection = (*conn).clone();
                Ok(run_by_slot(conn, commands).await)
            }
        }
    }
}

/// Runs commands on a cluster: one pipeline per hash slot, keyless commands on their own (the
/// cluster client sends `SCRIPT LOAD` and `PING` to every master).
async fn run_by_slot<T: FromRedisValue>(
    conn: cluster::ClusterConnection,
    commands: &Commands,
) -> Result<T, RedisError> {
    let atomic = commands.pipe.is_transaction();
    let mut groups: Vec<Vec<(usize, &Cmd)>> = Vec::new();
    let mut by_slot: FxHashMap<Slot, usize> = FxHashMap::default();
    for (i, cmd) in commands.pipe.cmd_iter().enumerate() {
        match key_of(cmd) {
            Some(key) => {
                let group = *by_slot.entry(Slot::for_key(key)).or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
                groups[group].push((i, cmd));
            }
            None => groups.push(vec![(i, cmd)]),
        }
    }
    let runs = groups.iter().map(|group| {
        let mut conn = conn.clone();
        async move {
            let replies: Vec<Value> = match group.as_slice() {
                [(_, cmd)] if key_of(cmd).is_none() => vec![cmd.query_async(&mut conn).await?],
                _ => {
                    let mut pipe = Pipeline::with_capacity(group.len());
                    if atomic && group.len() > 1 {
                        pipe.atomic();
                    }
                    for (_, cmd) in group {
                        pipe.add_command((*cmd).clone());
                    }
                    pipe.query_async(&mut conn).await?
                }
            };
            Ok::<_, RedisError>(group.iter().map(|(i, _)| *i).zip(replies))
        }
    });
    let mut replies: Vec<Option<Value>> = vec![None; commands.ignored.len()];
    for group in try_join_all(runs).await? {
        for (i, reply) in group {
            replies[i] = Some(reply);
        }
    }
    let kept: Vec<Value> = replies
        .into_iter()
        .zip(&commands.ignored)
        .filter(|(_, ignored)| !**ignored)
        .map(|(reply, _)| reply.unwrap_or(Value::Nil))
        .collect();
    Ok(T::from_redis_value(Value::Array(kept))?)
}

/// Subscribes to `channel` on the first node that answers, in a task of its own; on a lost
/// connection it moves on to the next node, waiting a second after a full round of failures,
/// and says [`Announcement::Lost`] when a live subscription breaks and
/// [`Announcement::Resubscribed`] once back ([`Announcement::Subscribed`] the first time). Ends
/// when the receiver is dropped.
pub(crate) fn subscribe(urls: Vec<String>, channel: String, timeout: Duration) -> Announcements {
    let (sender, receiver) = tokio::sync::mpsc::channel(ANNOUNCEMENT_BUFFER);
    tokio::spawn(async move {
        let mut lost = false;
        for (attempt, url) in urls.iter().cycle().enumerate() {
            let subscribed = tokio::time::timeout(timeout, async {
                let client = redis::Client::open(url.as_str())?;
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                Ok::<_, RedisError>(pubsub)
            })
            .await;
            match subscribed {
                Ok(Ok(pubsub)) => {
                    tracing::debug!(%url, %channel, "subscribed to change announcements");
                    let news = if std::mem::take(&mut lost) {
                        Announcement::Resubscribed
                    } else {
                        Announcement::Subscribed
                    };
                    if sender.send(news).await.is_err() {
                        return;
                    }
                    let mut messages = pubsub.into_on_message();
                    loop {
                        tokio::select! {
                            message = messages.next() => {
                                let Some(message) = message else { break };
                                let Ok(text) = message.get_payload::<String>() else { continue };
                                if sender.send(Announcement::Message(text)).await.is_err() {
                                    return;
                                }
                            }
                            () = sender.closed() => return,
                        }
                    }
                    tracing::warn!(%url, "change announcements subscription lost; resubscribing");
                    if sender.send(Announcement::Lost).await.is_err() {
                        return;
                    }
                }
                Ok(Err(error)) => {
                    tracing::warn!(%url, %error, "cannot subscribe to change announcements")
                }
                Err(_) => tracing::warn!(%url, "subscribing to change announcements timed out"),
            }
            lost = true;
            if (attempt + 1) % urls.len() == 0 {
                tokio::select! {
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    () = sender.closed() => return,
                }
            }
        }
    });
    Announcements(receiver)
}

pub(crate) fn pool_error(e: PoolError) -> StoreError {
    match e {
        PoolError::Backend(e) => redis_error(e),
        other => StoreError::Unavailable(format!("redis pool: {other}")),
    }
}

pub(crate) fn redis_error(e: RedisError) -> StoreError {
    let transient = matches!(
        e.kind(),
        ErrorKind::Io
            | ErrorKind::ClusterConnectionNotFound
            | ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
            )
    );
    if transient || e.is_timeout() || e.is_connection_dropped() || e.is_connection_refusal() {
        StoreError::Unavailable(format!("redis: {e}"))
    } else {
        StoreError::Backend(format!("redis: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_specs_name_every_seed_node() {
        assert_eq!(
            node_urls("redis://127.0.0.1:6379/0").unwrap(),
            (false, vec!["redis://127.0.0.1:6379/0".to_owned()])
        );
        assert_eq!(
            node_urls("redis+cluster://a:7000, b:7001/").unwrap(),
            (
                true,
                vec!["redis://a:7000/".to_owned(), "redis://b:7001/".to_owned()]
            )
        );
        assert_eq!(
            node_urls("redis+cluster://u:p@w@a:7000,b:7001").unwrap().1,
            vec!["redis://u:p@w@a:7000/", "redis://u:p@w@b:7001/"]
        );
        assert!(node_urls("redis+cluster://").is_err());
        assert!(node_urls("redis+cluster://a:1/0").is_err());
    }

    #[test]
    fn keys_are_found_where_the_store_puts_them() {
        let mut commands = Commands::new();
        commands.cmd("HSET").arg("wd:c:{u}").arg("s").arg("x");
        commands
            .cmd("EVALSHA")
            .arg("abc")
            .arg(2)
            .arg("wd:h:{1}")
            .arg("k2");
        commands.cmd("SCRIPT").arg("LOAD").arg("return 1");
        let keys: Vec<Option<&[u8]>> = commands.pipe.cmd_iter().map(key_of).collect();
        assert_eq!(
            keys,
            vec![Some(&b"wd:c:{u}"[..]), Some(&b"wd:h:{1}"[..]), None]
        );
    }
}
