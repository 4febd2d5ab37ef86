//! The listener, the per-connection threads, the wire framing and the answers.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use prost::Message;

/// A UTC instant.
type Clock = chrono::DateTime<chrono::Utc>;

use super::proto;
use super::{
    ComboLegInfo, ContractInfo, FakeCommission, FakeExecution, FakeOrder, FakePosition,
    OrderBehaviour, PlacedOrder, SERVER_VERSION, Shared, State, configure, occ_symbol,
    stable_con_id,
};

/// Offset of protobuf message ids on the wire.
const PROTOBUF_OFFSET: i32 = 200;
/// The largest frame the fake accepts from a client.
const MAX_FRAME: usize = 16 * 1024 * 1024;
/// How long a `StartApi` for a client id held by another live connection waits for that
/// connection to go before it is answered with 326.
const CLIENT_ID_GRACE: Duration = Duration::from_millis(500);

// Incoming (server → client) message ids.
const TICK_PRICE: i32 = 1;
const ORDER_STATUS: i32 = 3;
const ERROR: i32 = 4;
const OPEN_ORDER: i32 = 5;
const NEXT_VALID_ID: i32 = 9;
const CONTRACT_DATA: i32 = 10;
const EXECUTION_DATA: i32 = 11;
const MANAGED_ACCOUNTS: i32 = 15;
const CONTRACT_DATA_END: i32 = 52;
const OPEN_ORDER_END: i32 = 53;
const EXECUTION_DATA_END: i32 = 55;
const TICK_SNAPSHOT_END: i32 = 57;
const MARKET_DATA_TYPE: i32 = 58;
const COMMISSION_REPORT: i32 = 59;
const POSITION: i32 = 61;
const POSITION_END: i32 = 62;
const ACCOUNT_SUMMARY: i32 = 63;
const ACCOUNT_SUMMARY_END: i32 = 64;
const SEC_DEF_OPT_PARAM: i32 = 75;
const SEC_DEF_OPT_PARAM_END: i32 = 76;
const CURRENT_TIME: i32 = 49;
const COMPLETED_ORDER: i32 = 101;
const COMPLETED_ORDERS_END: i32 = 102;
const CURRENT_TIME_IN_MILLIS: i32 = 109;

// Outgoing (client → server) message ids.
const REQ_MKT_DATA: i32 = 1;
const CANCEL_MKT_DATA: i32 = 2;
const PLACE_ORDER: i32 = 3;
const CANCEL_ORDER: i32 = 4;
const REQ_OPEN_ORDERS: i32 = 5;
const REQ_EXECUTIONS: i32 = 7;
const REQ_IDS: i32 = 8;
const REQ_CONTRACT_DATA: i32 = 9;
const REQ_AUTO_OPEN_ORDERS: i32 = 15;
const REQ_ALL_OPEN_ORDERS: i32 = 16;
const REQ_MANAGED_ACCTS: i32 = 17;
const REQ_CURRENT_TIME: i32 = 49;
const REQ_GLOBAL_CANCEL: i32 = 58;
const REQ_MARKET_DATA_TYPE: i32 = 59;
const REQ_POSITIONS: i32 = 61;
const REQ_ACCOUNT_SUMMARY: i32 = 62;
const CANCEL_ACCOUNT_SUMMARY: i32 = 63;
const CANCEL_POSITIONS: i32 = 64;
const START_API: i32 = 71;
const REQ_SEC_DEF_OPT_PARAMS: i32 = 78;
const REQ_COMPLETED_ORDERS: i32 = 99;
const REQ_CURRENT_TIME_IN_MILLIS: i32 = 105;
const CANCEL_CONTRACT_DATA: i32 = 106;

/// A length-prefixed frame ready to write.
pub(super) type Frame = Vec<u8>;

static NEXT_CONN_ID: AtomicU64 = AtomicU64::new(1);

/// A connection as the handle and the other threads see it.
pub(super) struct ConnHandle {
    id: u64,
    client_id: Option<i32>,
    stream: Arc<Mutex<TcpStream>>,
}

impl ConnHandle {
    pub(super) fn close(&self) {
        if let Ok(stream) = self.stream.lock() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    fn send(&self, frames: &[Frame]) {
        if let Ok(mut stream) = self.stream.lock() {
            for frame in frames {
                if stream.write_all(frame).is_err() {
                    return;
                }
            }
            let _ = stream.flush();
        }
    }
}

pub(super) fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((stream, _)) => {
                if !shared.accepting.load(Ordering::SeqCst) {
                    let _ = stream.shutdown(Shutdown::Both);
                    continue;
                }
                if let Err(e) = configure(&stream) {
                    eprintln!("fake-tws: cannot configure an accepted socket: {e}");
                    continue;
                }
                let for_thread = Arc::clone(shared);
                let spawned = std::thread::Builder::new()
                    .name("fake-tws-conn".into())
                    .spawn(move || serve(stream, &for_thread));
                match spawned {
                    Ok(handle) => shared
                        .threads
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(handle),
                    Err(e) => eprintln!("fake-tws: cannot start a connection thread: {e}"),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => {
                eprintln!("fake-tws: accept failed: {e}");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

/// One client connection, from the handshake to its end.
fn serve(stream: TcpStream, shared: &Arc<Shared>) {
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let conn_id = NEXT_CONN_ID.fetch_add(1, Ordering::SeqCst);
    let writer = Arc::new(Mutex::new(writer));
    shared.conns().push(ConnHandle {
        id: conn_id,
        client_id: None,
        stream: Arc::clone(&writer),
    });
    let own = ConnHandle {
        id: conn_id,
        client_id: None,
        stream: writer,
    };
    if shared.stop.load(Ordering::SeqCst) {
        own.close();
    }

    let mut reader = stream;
    let started = match handshake(&mut reader, &own, shared) {
        Ok(Some(client_id)) => Some(client_id),
        Ok(None) => None,
        Err(e) => {
            if e.kind() != io::ErrorKind::UnexpectedEof {
                eprintln!("fake-tws: handshake failed: {e}");
            }
            None
        }
    };

    if let Some(client_id) = started {
        while let Ok(frame) = read_frame(&mut reader) {
            dispatch(&frame, client_id, &own, shared);
        }
        let mut state = shared.lock();
        state.connections = state.connections.saturating_sub(1);
    }
    own.close();
    shared.conns().retain(|c| c.id != conn_id);
    shared.changed.notify_all();
}

/// `API\0`, the version range, the server's answer, `StartApi`. Returns the client id once the
/// session is started, `None` when it was refused.
fn handshake(
    reader: &mut TcpStream,
    own: &ConnHandle,
    shared: &Arc<Shared>,
) -> io::Result<Option<i32>> {
    let clock = shared.lock().clock;
    let mut prefix = [0u8; 4];
    reader.read_exact(&mut prefix)?;
    if &prefix != b"API\0" {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("expected API\\0, got {prefix:?}"),
        ));
    }
    let versions = read_frame(reader)?;
    let versions = String::from_utf8_lossy(&versions).to_string();
    let max_client = versions
        .split("..")
        .nth(1)
        .and_then(|v| v.trim().parse::<i32>().ok())
        .unwrap_or(SERVER_VERSION);
    let version = SERVER_VERSION.min(max_client);
    let now = utc_now(clock).format("%Y%m%d %H:%M:%S");
    let reply = format!("{version}\0{now} UTC\0");
    own.send(&[length_prefixed(reply.as_bytes())]);

    let frame = read_frame(reader)?;
    let Some((id, payload)) = split(&frame) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "empty StartApi frame",
        ));
    };
    let client_id = if id == START_API + PROTOBUF_OFFSET {
        proto::StartApiRequest::decode(payload)
            .map_err(invalid)?
            .client_id
            .unwrap_or_default()
    } else if id == START_API {
        // Legacy text: version, client id, optional capabilities.
        let text = String::from_utf8_lossy(payload);
        text.split('\0')
            .nth(1)
            .and_then(|f| f.parse().ok())
            .unwrap_or_default()
    } else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("expected StartApi, got message {id}"),
        ));
    };

    let refuse = || {
        own.send(&[error_frame(
            clock,
            -1,
            326,
            "Unable to connect as the client id is already in use. Retry with a unique client id.",
        )]);
        Ok(None)
    };
    if client_id_in_use(shared, client_id, own.id) {
        return refuse();
    }

    let mut state = shared.lock();
    {
        let mut conns = shared.conns();
        // Checked again under the lock: two sessions racing for one id get one 326.
        if conns
            .iter()
            .any(|c| c.id != own.id && c.client_id == Some(client_id))
        {
            drop(conns);
            drop(state);
            return refuse();
        }
        if let Some(conn) = conns.iter_mut().find(|c| c.id == own.id) {
            conn.client_id = Some(client_id);
        } else {
            // Closed by drop_connections / stop during the handshake.
            return Ok(None);
        }
    }
    state.connections += 1;
    state.total_connections += 1;
    own.send(&[
        pb(
            NEXT_VALID_ID,
            &proto::NextValidId {
                order_id: Some(state.next_valid_id),
            },
        ),
        pb(
            MANAGED_ACCOUNTS,
            &proto::ManagedAccounts {
                accounts_list: Some(state.account.clone()),
            },
        ),
        error_frame(clock, -1, 2104, "Market data farm connection is OK:usopt"),
        error_frame(clock, -1, 2106, "HMDS data farm connection is OK:ushmds"),
    ]);
    drop(state);
    shared.changed.notify_all();
    Ok(Some(client_id))
}

/// Configured as in use, or held by another live session (given a short grace for a session
/// whose socket is closing, as a client that reconnects after a drop can race its own EOF).
#[expect(
    clippy::disallowed_methods,
    reason = "a grace period on a live socket is wall time"
)]
fn client_id_in_use(shared: &Arc<Shared>, client_id: i32, own_id: u64) -> bool {
    if shared.lock().client_ids_in_use.contains(&client_id) {
        return true;
    }
    let deadline = Instant::now() + CLIENT_ID_GRACE;
    loop {
        let held = shared
            .conns()
            .iter()
            .any(|c| c.id != own_id && c.client_id == Some(client_id));
        if !held {
            return false;
        }
        if Instant::now() >= deadline {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

fn read_frame(reader: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    reader.read_exact(&mut len)?;
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("frame of {len} bytes"),
        ));
    }
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    Ok(body)
}

fn split(frame: &[u8]) -> Option<(i32, &[u8])> {
    let (head, payload) = frame.split_first_chunk::<4>()?;
    Some((i32::from_be_bytes(*head), payload))
}

fn length_prefixed(body: &[u8]) -> Frame {
    let mut frame = Vec::with_capacity(body.len() + 4);
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(body);
    frame
}

/// A protobuf frame for incoming message `id`.
fn pb(id: i32, message: &impl Message) -> Frame {
    let payload = message.encode_to_vec();
    let mut body = Vec::with_capacity(payload.len() + 4);
    body.extend_from_slice(&(id + PROTOBUF_OFFSET).to_be_bytes());
    body.extend_from_slice(&payload);
    length_prefixed(&body)
}

fn error_frame(clock: Option<Clock>, id: i32, code: i32, message: &str) -> Frame {
    pb(
        ERROR,
        &proto::ErrorMessage {
            id: Some(id),
            error_time: Some(utc_now(clock).timestamp_millis()),
            error_code: Some(code),
            error_msg: Some(message.to_string()),
            advanced_order_reject_json: None,
        },
    )
}

/// The time the fake stamps: the state's fixed clock, else the wall clock.
#[expect(
    clippy::disallowed_methods,
    reason = "a fake server stamps wall time unless a test fixes its clock (FakeTws::set_clock)"
)]
fn utc_now(clock: Option<Clock>) -> Clock {
    if let Some(fixed) = clock {
        return fixed;
    }
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    chrono::DateTime::from_timestamp(
        i64::try_from(since_epoch.as_secs()).unwrap_or_default(),
        since_epoch.subsec_nanos(),
    )
    .unwrap_or_default()
}

fn now_text(clock: Option<Clock>) -> String {
    utc_now(clock).format("%Y%m%d %H:%M:%S UTC").to_string()
}

/// Sends `frames` to every started connection of `client_id`.
pub(super) fn send_to_client(shared: &Shared, client_id: i32, frames: &[Frame]) {
    if frames.is_empty() {
        return;
    }
    for conn in shared
        .conns()
        .iter()
        .filter(|c| c.client_id == Some(client_id))
    {
        conn.send(frames);
    }
}

fn dispatch(frame: &[u8], client_id: i32, own: &ConnHandle, shared: &Arc<Shared>) {
    let Some((raw_id, payload)) = split(frame) else {
        return;
    };
    if raw_id <= PROTOBUF_OFFSET {
        eprintln!("fake-tws: ignoring text-framed message {raw_id} (ibapi 5.5 sends protobuf)");
        shared.lock().unknown_messages.push(raw_id);
        return;
    }
    let id = raw_id - PROTOBUF_OFFSET;
    let mut state = shared.lock();
    let result = handle(id, payload, client_id, own.id, &mut state);
    match result {
        Ok(frames) => own.send(&frames),
        Err(e) => eprintln!("fake-tws: cannot decode message {id}: {e}"),
    }
    drop(state);
    shared.changed.notify_all();
}

fn handle(
    id: i32,
    payload: &[u8],
    client_id: i32,
    conn_id: u64,
    state: &mut State,
) -> Result<Vec<Frame>, prost::DecodeError> {
    Ok(match id {
        REQ_IDS => vec![pb(
            NEXT_VALID_ID,
            &proto::NextValidId {
                order_id: Some(state.next_valid_id),
            },
        )],
        REQ_CURRENT_TIME => vec![pb(
            CURRENT_TIME,
            &proto::CurrentTime {
                current_time: Some(utc_now(state.clock).timestamp()),
            },
        )],
        REQ_CURRENT_TIME_IN_MILLIS => vec![pb(
            CURRENT_TIME_IN_MILLIS,
            &proto::CurrentTimeInMillis {
                current_time_in_millis: Some(utc_now(state.clock).timestamp_millis()),
            },
        )],
        REQ_MANAGED_ACCTS => vec![pb(
            MANAGED_ACCOUNTS,
            &proto::ManagedAccounts {
                accounts_list: Some(state.account.clone()),
            },
        )],
        PLACE_ORDER => place_order(
            state,
            proto::PlaceOrderRequest::decode(payload)?,
            client_id,
            conn_id,
        ),
        CANCEL_ORDER => {
            let request = proto::CancelOrderRequest::decode(payload)?;
            cancel_request(state, request.order_id.unwrap_or_default())
        }
        REQ_GLOBAL_CANCEL => {
            let working: Vec<i32> = state
                .orders
                .values()
                .filter(|o| o.is_working())
                .map(|o| o.order_id)
                .collect();
            working
                .into_iter()
                .flat_map(|order_id| cancel_frames(state, order_id))
                .collect()
        }
        REQ_OPEN_ORDERS => open_orders(state, Some(client_id)),
        REQ_ALL_OPEN_ORDERS => open_orders(state, None),
        REQ_AUTO_OPEN_ORDERS
        | CANCEL_MKT_DATA
        | CANCEL_ACCOUNT_SUMMARY
        | CANCEL_POSITIONS
        | CANCEL_CONTRACT_DATA => Vec::new(),
        REQ_COMPLETED_ORDERS => completed_orders(state),
        REQ_EXECUTIONS => executions(state, &proto::ExecutionRequest::decode(payload)?),
        REQ_CONTRACT_DATA => contract_data(state, &proto::ContractDataRequest::decode(payload)?),
        REQ_SEC_DEF_OPT_PARAMS => {
            sec_def_opt_params(state, &proto::SecDefOptParamsRequest::decode(payload)?)
        }
        REQ_MARKET_DATA_TYPE => {
            state.market_data_type =
                proto::MarketDataTypeRequest::decode(payload)?.market_data_type;
            Vec::new()
        }
        REQ_MKT_DATA => market_data(state, &proto::MarketDataRequest::decode(payload)?),
        REQ_ACCOUNT_SUMMARY => {
            account_summary(state, &proto::AccountSummaryRequest::decode(payload)?)
        }
        REQ_POSITIONS => positions(state),
        other => {
            eprintln!(
                "fake-tws: ignoring message {other} (protobuf, {} bytes): not scripted",
                payload.len()
            );
            state.unknown_messages.push(other);
            Vec::new()
        }
    })
}

// ---- contracts ---------------------------------------------------------------------------------

fn contract_info(c: &proto::Contract) -> ContractInfo {
    ContractInfo {
        con_id: c.con_id.unwrap_or_default(),
        symbol: c.symbol.clone().unwrap_or_default(),
        sec_type: c.sec_type.clone().unwrap_or_default(),
        expiry: c
            .last_trade_date_or_contract_month
            .clone()
            .unwrap_or_default(),
        strike: c.strike.unwrap_or_default(),
        right: normalise_right(c.right.as_deref().unwrap_or_default()),
        multiplier: c.multiplier.map(format_multiplier).unwrap_or_default(),
        exchange: c.exchange.clone().unwrap_or_default(),
        currency: c.currency.clone().unwrap_or_default(),
        local_symbol: c.local_symbol.clone().unwrap_or_default(),
        trading_class: c.trading_class.clone().unwrap_or_default(),
        legs: c
            .combo_legs
            .iter()
            .map(|l| ComboLegInfo {
                con_id: l.con_id.unwrap_or_default(),
                ratio: l.ratio.unwrap_or(1),
                action: l.action.clone().unwrap_or_default(),
                exchange: l.exchange.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

fn format_multiplier(m: f64) -> String {
    if m.fract() == 0.0 {
        format!("{m:.0}")
    } else {
        m.to_string()
    }
}

fn normalise_right(right: &str) -> String {
    match right.to_ascii_uppercase().as_str() {
        "C" | "CALL" => "C".into(),
        "P" | "PUT" => "P".into(),
        other => other.into(),
    }
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

fn to_proto_contract(c: &ContractInfo) -> proto::Contract {
    proto::Contract {
        con_id: (c.con_id != 0).then_some(c.con_id),
        symbol: some(&c.symbol),
        sec_type: some(&c.sec_type),
        last_trade_date_or_contract_month: some(&c.expiry),
        strike: (c.strike != 0.0).then_some(c.strike),
        right: some(&c.right),
        multiplier: c.multiplier.parse().ok(),
        exchange: some(&c.exchange),
        currency: some(&c.currency),
        local_symbol: some(&c.local_symbol),
        trading_class: some(&c.trading_class),
        combo_legs: c
            .legs
            .iter()
            .map(|l| proto::ComboLeg {
                con_id: Some(l.con_id),
                ratio: Some(l.ratio),
                action: some(&l.action),
                exchange: some(&l.exchange),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn default_min_tick(symbol: &str) -> f64 {
    if matches!(symbol, "SPX" | "SPXW" | "NDX" | "RUT" | "XSP") {
        0.05
    } else {
        0.01
    }
}

/// Resolves a requested contract the way the fake's TWS knows it: `(contract, min tick)`, or
/// `None` for "no security definition".
fn resolve(state: &State, c: &proto::Contract) -> Option<(ContractInfo, f64)> {
    if let Some(known) = c
        .con_id
        .filter(|id| *id != 0)
        .and_then(|id| state.contracts.get(&id))
    {
        return Some((known.clone(), default_min_tick(&known.symbol)));
    }
    let info = contract_info(c);
    let currency = if info.currency.is_empty() {
        "USD".to_string()
    } else {
        info.currency.clone()
    };
    if currency != "USD" || info.symbol.is_empty() {
        return None;
    }
    let exchange = if info.exchange.is_empty() {
        "SMART".to_string()
    } else {
        info.exchange.clone()
    };
    match info.sec_type.as_str() {
        "OPT" => {
            let expiry_ok =
                info.expiry.len() == 8 && info.expiry.bytes().all(|b| b.is_ascii_digit());
            if !expiry_ok || info.strike <= 0.0 || !matches!(info.right.as_str(), "C" | "P") {
                return None;
            }
            let chains: Vec<_> = state
                .chains
                .iter()
                .filter(|ch| ch.symbol == info.symbol)
                .collect();
            let (trading_class, multiplier, min_tick) = if chains.is_empty() {
                let class = if info.trading_class.is_empty() {
                    info.symbol.clone()
                } else {
                    info.trading_class.clone()
                };
                (class, "100".to_string(), default_min_tick(&info.symbol))
            } else {
                let chain = chains.into_iter().find(|ch| {
                    (info.trading_class.is_empty() || ch.trading_class == info.trading_class)
                        && ch.expirations.contains(&info.expiry)
                        && ch.strikes.iter().any(|s| (s - info.strike).abs() < 1e-6)
                })?;
                (
                    chain.trading_class.clone(),
                    chain.multiplier.clone(),
                    chain.min_tick,
                )
            };
            if !info.multiplier.is_empty() && info.multiplier != multiplier {
                return None;
            }
            let local_symbol = occ_symbol(&trading_class, &info.expiry, &info.right, info.strike);
            Some((
                ContractInfo {
                    con_id: stable_con_id(&local_symbol),
                    symbol: info.symbol.clone(),
                    sec_type: "OPT".into(),
                    expiry: info.expiry.clone(),
                    strike: info.strike,
                    right: info.right.clone(),
                    multiplier,
                    exchange,
                    currency,
                    local_symbol,
                    trading_class,
                    legs: Vec::new(),
                },
                min_tick,
            ))
        }
        "STK" | "IND" => {
            let underlying = state
                .chains
                .iter()
                .find(|ch| ch.symbol == info.symbol)
                .map(|ch| ch.underlying_con_id);
            Some((
                ContractInfo {
                    con_id: underlying
                        .unwrap_or_else(|| stable_con_id(&format!("{}:underlying", info.symbol))),
                    symbol: info.symbol.clone(),
                    sec_type: info.sec_type.clone(),
                    exchange,
                    currency,
                    local_symbol: info.symbol.clone(),
                    trading_class: info.symbol.clone(),
                    ..Default::default()
                },
                0.01,
            ))
        }
        _ => None,
    }
}

fn contract_data(state: &mut State, request: &proto::ContractDataRequest) -> Vec<Frame> {
    let clock = state.clock;
    let req_id = request.req_id.unwrap_or_default();
    let resolved = request.contract.as_ref().and_then(|c| resolve(state, c));
    let Some((info, min_tick)) = resolved else {
        return vec![error_frame(
            clock,
            req_id,
            200,
            "No security definition has been found for the request",
        )];
    };
    state.contracts.insert(info.con_id, info.clone());
    let details = proto::ContractDetails {
        market_name: some(&info.trading_class),
        min_tick: Some(min_tick.to_string()),
        order_types: Some("ACTIVETIM,AD,ALERT,ALLOC,COND,LMT,MKT,STP".into()),
        valid_exchanges: Some("SMART,CBOE,ISE,PHLX,AMEX".into()),
        price_magnifier: Some(1),
        long_name: some(&info.symbol),
        time_zone_id: Some("US/Eastern".into()),
        under_symbol: (info.sec_type == "OPT").then(|| info.symbol.clone()),
        under_sec_type: (info.sec_type == "OPT").then(|| {
            if info.symbol.starts_with("SPX") {
                "IND".into()
            } else {
                "STK".into()
            }
        }),
        real_expiration_date: some(&info.expiry),
        min_size: Some("1".into()),
        size_increment: Some("1".into()),
        suggested_size_increment: Some("1".into()),
        ..Default::default()
    };
    vec![
        pb(
            CONTRACT_DATA,
            &proto::ContractData {
                req_id: Some(req_id),
                contract: Some(to_proto_contract(&info)),
                contract_details: Some(details),
            },
        ),
        pb(
            CONTRACT_DATA_END,
            &proto::ContractDataEnd {
                req_id: Some(req_id),
            },
        ),
    ]
}

fn sec_def_opt_params(state: &State, request: &proto::SecDefOptParamsRequest) -> Vec<Frame> {
    let req_id = request.req_id.unwrap_or_default();
    let symbol = request.underlying_symbol.clone().unwrap_or_default();
    let exchange = request.fut_fop_exchange.clone().unwrap_or_default();
    let mut frames: Vec<Frame> = state
        .chains
        .iter()
        .filter(|ch| ch.symbol == symbol && (exchange.is_empty() || ch.exchange == exchange))
        .map(|ch| {
            pb(
                SEC_DEF_OPT_PARAM,
                &proto::SecDefOptParameter {
                    req_id: Some(req_id),
                    exchange: Some(ch.exchange.clone()),
                    underlying_con_id: Some(ch.underlying_con_id),
                    trading_class: Some(ch.trading_class.clone()),
                    multiplier: Some(ch.multiplier.clone()),
                    expirations: ch.expirations.clone(),
                    strikes: ch.strikes.clone(),
                },
            )
        })
        .collect();
    frames.push(pb(
        SEC_DEF_OPT_PARAM_END,
        &proto::SecDefOptParameterEnd {
            req_id: Some(req_id),
        },
    ));
    frames
}

fn market_data(state: &mut State, request: &proto::MarketDataRequest) -> Vec<Frame> {
    let clock = state.clock;
    let req_id = request.req_id.unwrap_or_default();
    let con_id = request.contract.as_ref().and_then(|c| {
        c.con_id
            .filter(|id| *id != 0)
            .or_else(|| resolve(state, c).map(|(info, _)| info.con_id))
    });
    let Some(con_id) = con_id else {
        return vec![error_frame(
            clock,
            req_id,
            200,
            "No security definition has been found for the request",
        )];
    };
    let mut frames = Vec::new();
    let data_type = state.market_data_type.unwrap_or(1);
    if data_type != 1 {
        frames.push(pb(
            MARKET_DATA_TYPE,
            &proto::MarketDataType {
                req_id: Some(req_id),
                market_data_type: Some(data_type),
            },
        ));
    }
    let delayed = matches!(data_type, 3 | 4);
    if let Some(quote) = state.quotes.get(&con_id) {
        let (bid, ask, last) = if delayed { (66, 67, 68) } else { (1, 2, 4) };
        let mut ticks = vec![(bid, quote.bid), (ask, quote.ask)];
        if let Some(l) = quote.last {
            ticks.push((last, l));
        }
        for (tick_type, price) in ticks {
            frames.push(pb(
                TICK_PRICE,
                &proto::TickPrice {
                    req_id: Some(req_id),
                    tick_type: Some(tick_type),
                    price: Some(price),
                    size: None,
                    attr_mask: Some(0),
                },
            ));
        }
    }
    if request.snapshot.unwrap_or_default() {
        frames.push(pb(
            TICK_SNAPSHOT_END,
            &proto::TickSnapshotEnd {
                req_id: Some(req_id),
            },
        ));
    }
    frames
}

fn account_summary(state: &State, request: &proto::AccountSummaryRequest) -> Vec<Frame> {
    let req_id = request.req_id.unwrap_or_default();
    let tags: Vec<String> = request
        .tags
        .clone()
        .unwrap_or_default()
        .split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    let mut frames: Vec<Frame> = state
        .account_values
        .iter()
        .filter(|(tag, _)| tags.is_empty() || tags.contains(tag))
        .map(|(tag, value)| {
            pb(
                ACCOUNT_SUMMARY,
                &proto::AccountSummary {
                    req_id: Some(req_id),
                    account: Some(state.account.clone()),
                    tag: Some(tag.clone()),
                    value: Some(value.clone()),
                    currency: Some("USD".into()),
                },
            )
        })
        .collect();
    frames.push(pb(
        ACCOUNT_SUMMARY_END,
        &proto::AccountSummaryEnd {
            req_id: Some(req_id),
        },
    ));
    frames
}

fn positions(state: &State) -> Vec<Frame> {
    let mut frames: Vec<Frame> = state
        .positions
        .values()
        .map(|p| {
            pb(
                POSITION,
                &proto::Position {
                    account: Some(state.account.clone()),
                    contract: Some(to_proto_contract(&p.contract)),
                    position: Some(p.position.to_string()),
                    avg_cost: Some(p.avg_cost),
                },
            )
        })
        .collect();
    frames.push(pb(POSITION_END, &proto::PositionEnd {}));
    frames
}

// ---- orders ------------------------------------------------------------------------------------

fn place_order(
    state: &mut State,
    request: proto::PlaceOrderRequest,
    client_id: i32,
    conn_id: u64,
) -> Vec<Frame> {
    let clock = state.clock;
    let order_id = request.order_id.unwrap_or_default();
    let mut raw_contract = request.contract.unwrap_or_default();
    let raw_order = request.order.unwrap_or_default();
    let mut contract = contract_info(&raw_contract);
    let total_quantity: f64 = raw_order
        .total_quantity
        .as_deref()
        .and_then(|q| q.parse().ok())
        .unwrap_or_default();
    let placed = PlacedOrder {
        order_id,
        client_id,
        connection: conn_id,
        order_ref: raw_order.order_ref.clone().unwrap_or_default(),
        contract: contract.clone(),
        action: raw_order.action.clone().unwrap_or_default(),
        total_quantity,
        order_type: raw_order.order_type.clone().unwrap_or_default(),
        limit_price: raw_order.lmt_price,
        tif: raw_order.tif.clone().unwrap_or_else(|| "DAY".into()),
    };
    state.placed.push(placed.clone());
    state.next_valid_id = state.next_valid_id.max(order_id + 1);

    // TWS resolves a single contract by its fields and echoes the resolved one; one it cannot
    // resolve is answered with error 200 for the order id.
    if contract.legs.is_empty() {
        match resolve(state, &raw_contract) {
            Some((resolved, _)) => {
                state.contracts.insert(resolved.con_id, resolved.clone());
                raw_contract = to_proto_contract(&resolved);
                contract = resolved;
            }
            None if contract.con_id == 0 => {
                return vec![error_frame(
                    clock,
                    order_id,
                    200,
                    "No security definition has been found for the request",
                )];
            }
            None => {}
        }
    }

    if let Some(existing) = state.orders.get_mut(&order_id) {
        return modify_order(existing, placed, raw_order, clock);
    }

    let mut raw_order = raw_order;
    if raw_order.account.as_deref().is_none_or(str::is_empty) {
        raw_order.account = Some(state.account.clone());
    }
    let behaviour = state
        .scripted
        .pop_front()
        .unwrap_or_else(|| state.default_behaviour.clone());
    let perm_id = state.next_perm_id;
    state.next_perm_id += 1;
    let order = FakeOrder {
        order_id,
        perm_id,
        client_id,
        order_ref: placed.order_ref,
        contract,
        action: placed.action,
        total_quantity,
        order_type: placed.order_type,
        limit_price: placed.limit_price,
        tif: placed.tif,
        status: "Submitted".into(),
        filled: 0.0,
        avg_fill_price: 0.0,
        behaviour: behaviour.clone(),
        completed_time: String::new(),
        raw_contract,
        raw_order,
    };
    let submitted = vec![open_order_frame(&order), order_status_frame(&order, 0.0)];
    state.orders.insert(order_id, order);

    act(state, order_id, behaviour, submitted)
}

/// What a new order's behaviour sends (`submitted`: its `OpenOrder` + `OrderStatus`).
fn act(
    state: &mut State,
    order_id: i32,
    behaviour: OrderBehaviour,
    submitted: Vec<Frame>,
) -> Vec<Frame> {
    let clock = state.clock;
    let total_quantity = state.orders[&order_id].total_quantity;
    match behaviour {
        OrderBehaviour::Silent => Vec::new(),
        OrderBehaviour::Work => submitted,
        OrderBehaviour::Fill => {
            let mut frames = submitted;
            frames.extend(fill_batch(state, order_id, total_quantity));
            frames
        }
        OrderBehaviour::FillInParts(parts) => {
            let mut frames = submitted;
            for part in split_quantity(total_quantity, parts) {
                frames.extend(fill_batch(state, order_id, part));
            }
            frames
        }
        OrderBehaviour::Reject { code, message } => {
            let order = state.orders.get_mut(&order_id).expect("inserted above");
            order.status = "Cancelled".into();
            order.completed_time = now_text(clock);
            vec![
                error_frame(clock, order_id, code, &message),
                order_status_frame(order, 0.0),
            ]
        }
    }
}

/// A `PlaceOrder` for an id the fake already holds: a modification of a working order (new
/// limit / quantity / tif, same id and perm id), else error 104 (filled) or 103.
fn modify_order(
    existing: &mut FakeOrder,
    placed: PlacedOrder,
    raw_order: proto::Order,
    clock: Option<Clock>,
) -> Vec<Frame> {
    if !existing.is_working() {
        let (code, text) = if existing.status == "Filled" {
            (104, "Can't modify a filled order")
        } else {
            (103, "Duplicate order id")
        };
        return vec![error_frame(clock, existing.order_id, code, text)];
    }
    // A modification of a working order: new limit / quantity / tif, same id and perm id.
    existing.total_quantity = placed.total_quantity;
    existing.limit_price = placed.limit_price;
    existing.tif = placed.tif;
    existing.order_type = placed.order_type;
    existing.order_ref = placed.order_ref;
    existing.raw_order = raw_order;
    if existing.behaviour == OrderBehaviour::Silent {
        return Vec::new();
    }
    vec![
        open_order_frame(existing),
        order_status_frame(existing, 0.0),
    ]
}

/// `parts` batches (clamped to 1..=quantity) as even as whole contracts allow.
fn split_quantity(quantity: f64, parts: u32) -> Vec<f64> {
    let whole = quantity.floor().max(1.0) as u32;
    let n = parts.clamp(1, whole);
    let base = (quantity / f64::from(n)).floor();
    let mut batches = vec![base; n as usize];
    let rest = quantity - base * f64::from(n);
    if let Some(last) = batches.last_mut() {
        *last += rest;
    }
    batches.into_iter().filter(|q| *q > 0.0).collect()
}

fn cancel_request(state: &mut State, order_id: i32) -> Vec<Frame> {
    let clock = state.clock;
    state.cancel_requests.push(order_id);
    match state.orders.get(&order_id) {
        None => vec![error_frame(
            clock,
            order_id,
            10147,
            &format!("OrderId {order_id} that needs to be cancelled is not found."),
        )],
        Some(order) if !order.is_working() => vec![error_frame(
            clock,
            order_id,
            10148,
            &format!(
                "OrderId {order_id} that needs to be cancelled cannot be cancelled, state: {}.",
                order.status
            ),
        )],
        Some(_) => cancel_frames(state, order_id),
    }
}

/// Cancels a working order: Error 202 "Order Canceled - reason:" then `OrderStatus` Cancelled.
pub(super) fn cancel_frames(state: &mut State, order_id: i32) -> Vec<Frame> {
    let clock = state.clock;
    let Some(order) = state.orders.get_mut(&order_id) else {
        return Vec::new();
    };
    order.status = "Cancelled".into();
    order.completed_time = now_text(clock);
    vec![
        error_frame(clock, order_id, 202, "Order Canceled - reason:"),
        order_status_frame(order, 0.0),
    ]
}

fn open_orders(state: &State, client_id: Option<i32>) -> Vec<Frame> {
    let mut frames = Vec::new();
    for order in state
        .orders
        .values()
        .filter(|o| o.is_working() && client_id.is_none_or(|id| o.client_id == id))
    {
        frames.push(open_order_frame(order));
        frames.push(order_status_frame(order, 0.0));
    }
    frames.push(pb(OPEN_ORDER_END, &proto::OpenOrdersEnd {}));
    frames
}

fn completed_orders(state: &State) -> Vec<Frame> {
    let mut frames: Vec<Frame> = state
        .orders
        .values()
        .filter(|o| !o.is_working())
        .map(|o| {
            pb(
                COMPLETED_ORDER,
                &proto::CompletedOrder {
                    contract: Some(o.raw_contract.clone()),
                    order: Some(completed_order(o)),
                    order_state: Some(proto::OrderState {
                        status: Some(o.status.clone()),
                        completed_time: Some(o.completed_time.clone()),
                        completed_status: Some(o.status.clone()),
                        ..Default::default()
                    }),
                },
            )
        })
        .collect();
    frames.push(pb(COMPLETED_ORDERS_END, &proto::CompletedOrdersEnd {}));
    frames
}

fn proto_order(o: &FakeOrder) -> proto::Order {
    let mut order = o.raw_order.clone();
    order.order_id = Some(o.order_id);
    order.client_id = Some(o.client_id);
    order.perm_id = Some(o.perm_id);
    order.filled_quantity = Some(o.filled.to_string());
    order
}

/// The order of a `CompletedOrder`: as live TWS writes it (ibapi #1116), its total quantity is
/// what was left unfilled (0 once filled; 400 for 1000 cancelled after 600 filled).
fn completed_order(o: &FakeOrder) -> proto::Order {
    let mut order = proto_order(o);
    order.total_quantity = Some(o.remaining().to_string());
    order
}

fn open_order_frame(o: &FakeOrder) -> Frame {
    let order = proto_order(o);
    pb(
        OPEN_ORDER,
        &proto::OpenOrder {
            order_id: Some(o.order_id),
            contract: Some(o.raw_contract.clone()),
            order: Some(order),
            order_state: Some(proto::OrderState {
                status: Some(o.status.clone()),
                commission_and_fees_currency: Some("USD".into()),
                ..Default::default()
            }),
        },
    )
}

fn order_status_frame(o: &FakeOrder, last_fill_price: f64) -> Frame {
    pb(
        ORDER_STATUS,
        &proto::OrderStatus {
            order_id: Some(o.order_id),
            status: Some(o.status.clone()),
            filled: Some(o.filled.to_string()),
            // What is unfilled, also once Cancelled (as TWS does; ibapi reads remaining 0
            // after a fill as Filled).
            remaining: Some(o.remaining().to_string()),
            avg_fill_price: Some(o.avg_fill_price),
            perm_id: Some(o.perm_id),
            parent_id: Some(0),
            last_fill_price: Some(last_fill_price),
            client_id: Some(o.client_id),
            why_held: None,
            mkt_cap_price: Some(0.0),
        },
    )
}

/// One leg to fill: contract, ratio, +1 bought / −1 sold, price.
struct LegFill {
    contract: ContractInfo,
    ratio: f64,
    sign: f64,
    price: f64,
}

fn base_price(state: &State, con_id: i32) -> f64 {
    state
        .quotes
        .get(&con_id)
        .map(|q| (f64::midpoint(q.bid, q.ask) * 100.0).round() / 100.0)
        .filter(|p| *p > 0.0)
        .unwrap_or(1.0)
}

/// Leg prices per the module doc's combo convention.
fn leg_fills(state: &State, order: &FakeOrder) -> Vec<LegFill> {
    let order_sign = if order.action.eq_ignore_ascii_case("SELL") {
        -1.0
    } else {
        1.0
    };
    if order.contract.legs.is_empty() {
        let price = order
            .limit_price
            .unwrap_or_else(|| base_price(state, order.contract.con_id));
        let contract = state
            .contracts
            .get(&order.contract.con_id)
            .cloned()
            .unwrap_or_else(|| order.contract.clone());
        return vec![LegFill {
            contract,
            ratio: 1.0,
            sign: order_sign,
            price,
        }];
    }
    let mut legs: Vec<LegFill> = order
        .contract
        .legs
        .iter()
        .map(|leg| {
            let contract = state
                .contracts
                .get(&leg.con_id)
                .cloned()
                .unwrap_or_else(|| ContractInfo {
                    con_id: leg.con_id,
                    symbol: order.contract.symbol.clone(),
                    sec_type: "OPT".into(),
                    exchange: leg.exchange.clone(),
                    currency: order.contract.currency.clone(),
                    multiplier: "100".into(),
                    ..Default::default()
                });
            let leg_sign = if leg.action.eq_ignore_ascii_case("SELL") {
                -1.0
            } else {
                1.0
            };
            LegFill {
                contract,
                ratio: f64::from(leg.ratio.max(1)),
                sign: leg_sign,
                price: base_price(state, leg.con_id),
            }
        })
        .collect();
    if let Some(limit) = order.limit_price {
        // The net in the combo's own (BUY) direction: Σ sign × ratio × price.
        let target = limit * order_sign;
        let net: f64 = legs.iter().map(|l| l.sign * l.ratio * l.price).sum();
        let diff = target - net;
        if diff.abs() > 1e-12 {
            if let Some(leg) = legs.iter_mut().find(|l| l.sign * diff > 0.0) {
                leg.price += diff / (leg.sign * leg.ratio);
            } else if net.abs() > 1e-12 {
                let scale = target / net;
                for leg in &mut legs {
                    leg.price *= scale;
                }
            }
        }
    }
    for leg in &mut legs {
        leg.sign *= order_sign;
    }
    legs
}

/// Fills `quantity` more of `order_id`: executions + commissions per leg, positions, the
/// order's status. Returns the frames for the owning client.
pub(super) fn fill_batch(state: &mut State, order_id: i32, quantity: f64) -> Vec<Frame> {
    let clock = state.clock;
    let Some(order) = state.orders.get(&order_id).cloned() else {
        return Vec::new();
    };
    let legs = leg_fills(state, &order);
    let mut frames = Vec::new();
    let time = now_text(clock);
    let mut batch_net = 0.0;
    for leg in &legs {
        let shares = leg.ratio * quantity;
        let prior: Vec<&FakeExecution> = state
            .executions
            .iter()
            .filter(|e| e.order_id == order_id && e.con_id == leg.contract.con_id)
            .collect();
        let prior_qty: f64 = prior.iter().map(|e| e.shares).sum();
        let prior_value: f64 = prior.iter().map(|e| e.shares * e.price).sum();
        let cum_qty = prior_qty + shares;
        let avg_price = (prior_value + shares * leg.price) / cum_qty;
        let seq = state.next_exec_seq;
        state.next_exec_seq += 1;
        let exec_id = format!("0000fa4e.{:08x}.{:02}.01", order.perm_id, seq);
        let side = if leg.sign > 0.0 { "BOT" } else { "SLD" };
        let exchange = if leg.contract.exchange.is_empty() || leg.contract.exchange == "SMART" {
            "CBOE".to_string()
        } else {
            leg.contract.exchange.clone()
        };
        batch_net += leg.sign * leg.ratio * leg.price;

        let execution = FakeExecution {
            exec_id: exec_id.clone(),
            order_id,
            perm_id: order.perm_id,
            client_id: order.client_id,
            order_ref: order.order_ref.clone(),
            con_id: leg.contract.con_id,
            contract: leg.contract.clone(),
            side: side.into(),
            shares,
            price: leg.price,
            cum_qty,
            avg_price,
            time: time.clone(),
        };
        // Commission: rate × shares, the order's running total raised to the minimum.
        let paid: f64 = state
            .commissions
            .iter()
            .filter(|c| {
                state
                    .executions
                    .iter()
                    .any(|e| e.exec_id == c.exec_id && e.order_id == order_id)
            })
            .map(|c| c.commission)
            .sum();
        let commission =
            ((paid + state.commission_per_contract * shares).max(state.commission_minimum) - paid)
                .max(0.0);
        let commission = (commission * 10_000.0).round() / 10_000.0;
        let report = FakeCommission {
            exec_id: exec_id.clone(),
            commission,
            currency: "USD".into(),
        };

        frames.push(execution_frame(state, &execution, &exchange, -1));
        frames.push(commission_frame(&report));
        update_position(state, &leg.contract, leg.sign * shares, leg.price);
        state.executions.push(execution);
        state.commissions.push(report);
    }
    let net_price = order.limit_price.unwrap_or(
        batch_net
            * if order.action.eq_ignore_ascii_case("SELL") {
                -1.0
            } else {
                1.0
            },
    );
    if state.combo_executions && !order.contract.legs.is_empty() {
        frames.push(combo_execution(state, &order, quantity, net_price, &time));
    }
    let order = state.orders.get_mut(&order_id).expect("cloned above");
    let filled = order.filled + quantity;
    order.avg_fill_price = (order.avg_fill_price * order.filled + net_price * quantity) / filled;
    order.filled = filled;
    if order.remaining() <= 1e-9 {
        order.status = "Filled".into();
        order.completed_time = time;
        frames.push(order_status_frame(order, net_price));
        frames.push(open_order_frame(order));
    } else {
        order.status = "Submitted".into();
        frames.push(order_status_frame(order, net_price));
    }
    frames
}

/// The execution live TWS also reports for a combo itself (`BAG`, the net price per unit, no
/// commission report), recorded with conId 0.
fn combo_execution(
    state: &mut State,
    order: &FakeOrder,
    quantity: f64,
    net_price: f64,
    time: &str,
) -> Frame {
    let seq = state.next_exec_seq;
    state.next_exec_seq += 1;
    let cum_qty = order.filled + quantity;
    let execution = FakeExecution {
        exec_id: format!("0000fa4e.{:08x}.{:02}.01", order.perm_id, seq),
        order_id: order.order_id,
        perm_id: order.perm_id,
        client_id: order.client_id,
        order_ref: order.order_ref.clone(),
        con_id: 0,
        contract: order.contract.clone(),
        side: if order.action.eq_ignore_ascii_case("SELL") {
            "SLD"
        } else {
            "BOT"
        }
        .into(),
        shares: quantity,
        price: net_price,
        cum_qty,
        avg_price: (order.avg_fill_price * order.filled + net_price * quantity) / cum_qty,
        time: time.to_string(),
    };
    let frame = execution_frame(state, &execution, "SMART", -1);
    state.executions.push(execution);
    frame
}

fn update_position(state: &mut State, contract: &ContractInfo, signed_qty: f64, price: f64) {
    let multiplier: f64 = contract
        .multiplier
        .parse()
        .unwrap_or(if contract.sec_type == "OPT" {
            100.0
        } else {
            1.0
        });
    let cost = price * multiplier;
    let entry = state
        .positions
        .entry(contract.con_id)
        .or_insert_with(|| FakePosition {
            contract: contract.clone(),
            position: 0.0,
            avg_cost: 0.0,
        });
    let old = entry.position;
    let new = old + signed_qty;
    if old == 0.0 || old.signum() == signed_qty.signum() {
        entry.avg_cost = (old.abs() * entry.avg_cost + signed_qty.abs() * cost) / new.abs();
    } else if new.signum() != old.signum() && new != 0.0 {
        entry.avg_cost = cost;
    } else if new == 0.0 {
        entry.avg_cost = 0.0;
    }
    entry.position = new;
}

fn execution_frame(state: &State, e: &FakeExecution, exchange: &str, req_id: i32) -> Frame {
    pb(
        EXECUTION_DATA,
        &proto::ExecutionDetails {
            req_id: Some(req_id),
            contract: Some(to_proto_contract(&e.contract)),
            execution: Some(proto::Execution {
                order_id: Some(e.order_id),
                exec_id: Some(e.exec_id.clone()),
                time: Some(e.time.clone()),
                acct_number: Some(state.account.clone()),
                exchange: Some(exchange.to_string()),
                side: Some(e.side.clone()),
                shares: Some(e.shares.to_string()),
                price: Some(e.price),
                perm_id: Some(e.perm_id),
                client_id: Some(e.client_id),
                is_liquidation: Some(false),
                cum_qty: Some(e.cum_qty.to_string()),
                avg_price: Some(e.avg_price),
                order_ref: some(&e.order_ref),
                last_liquidity: Some(1),
                ..Default::default()
            }),
        },
    )
}

fn commission_frame(c: &FakeCommission) -> Frame {
    pb(
        COMMISSION_REPORT,
        &proto::CommissionAndFeesReport {
            exec_id: Some(c.exec_id.clone()),
            commission_and_fees: Some(c.commission),
            currency: Some(c.currency.clone()),
            realized_pnl: Some(f64::MAX),
            bond_yield: Some(f64::MAX),
            yield_redemption_date: None,
        },
    )
}

fn executions(state: &State, request: &proto::ExecutionRequest) -> Vec<Frame> {
    let req_id = request.req_id.unwrap_or_default();
    let filter = request.execution_filter.clone().unwrap_or_default();
    let mut frames = Vec::new();
    for e in &state.executions {
        let keep = filter
            .client_id
            .is_none_or(|id| id == 0 || id == e.client_id)
            && filter
                .acct_code
                .as_deref()
                .is_none_or(|a| a.is_empty() || a == state.account)
            && filter
                .symbol
                .as_deref()
                .is_none_or(|s| s.is_empty() || s == e.contract.symbol)
            && filter
                .sec_type
                .as_deref()
                .is_none_or(|s| s.is_empty() || s == e.contract.sec_type)
            && filter
                .side
                .as_deref()
                .is_none_or(|s| s.is_empty() || side_matches(s, &e.side));
        if !keep {
            continue;
        }
        let exchange = if e.contract.exchange.is_empty() || e.contract.exchange == "SMART" {
            "CBOE"
        } else {
            e.contract.exchange.as_str()
        };
        frames.push(execution_frame(state, e, exchange, req_id));
        if let Some(c) = state.commissions.iter().find(|c| c.exec_id == e.exec_id) {
            frames.push(commission_frame(c));
        }
    }
    frames.push(pb(
        EXECUTION_DATA_END,
        &proto::ExecutionDetailsEnd {
            req_id: Some(req_id),
        },
    ));
    frames
}

fn side_matches(filter: &str, side: &str) -> bool {
    match filter.to_ascii_uppercase().as_str() {
        "BUY" | "BOT" => side == "BOT",
        "SELL" | "SLD" => side == "SLD",
        _ => true,
    }
}
