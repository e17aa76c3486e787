//! Who the client is, for every throttle: the TCP peer, unless the peer is one of
//! `server.trusted_proxies`; then the right-most `X-Forwarded-For` address that is not itself a
//! trusted proxy. Anyone else's `X-Forwarded-For` is ignored, so rotating it changes nothing.

use std::net::{IpAddr, Ipv6Addr};

use poem::{FromRequest, Request, RequestBody};

use crate::api::AppState;
use crate::config::AddressRange;

/// The client's address, as far as this server can tell.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub IpAddr);

impl ClientAddress {
    /// The client of `request`, behind the trusted proxies of the application's configuration.
    pub fn of(request: &Request) -> Self {
        let trusted = request
            .data::<AppState>()
            .map_or(&[][..], |state| &state.config.server.trusted_proxies[..]);
        // Only a TCP listener serves this API; anything else counts as one unknown client.
        let peer = request
            .remote_addr()
            .as_socket_addr()
            .map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |address| address.ip());
        let forwarded_for = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok());
        ClientAddress(client_address(peer, forwarded_for, trusted))
    }
}

impl<'a> FromRequest<'a> for ClientAddress {
    async fn from_request(request: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(ClientAddress::of(request))
    }
}

/// Each proxy appends the address it was reached from, so the list is walked from the right:
/// the first hop that is not a trusted proxy is the client. A hop that is not an address (a
/// proxy set up wrong) ends the walk at the last trusted one, which a client cannot choose.
fn client_address<'h>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'h str>,
    trusted: &[AddressRange],
) -> IpAddr {
    let is_trusted = |address: IpAddr| trusted.iter().any(|range| range.contains(address));
    let mut client = peer.to_canonical();
    if !is_trusted(client) {
        return client;
    }
    let hops: Vec<&str> = forwarded_for.flat_map(|value| value.split(',')).collect();
    for hop in hops.into_iter().rev() {
        let Ok(address) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = address.to_canonical();
        if !is_trusted(client) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(peer: &str, forwarded_for: &[&str], trusted: &[&str]) -> String {
        let trusted: Vec<AddressRange> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        client_address(
            peer.parse().unwrap(),
            forwarded_for.iter().copied(),
            &trusted,
        )
        .to_string()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        assert_eq!(client("203.0.113.9", &["198.51.100.1"], &[]), "203.0.113.9");
        assert_eq!(
            client("203.0.113.9", &["198.51.100.1"], &["10.0.0.0/8"]),
            "203.0.113.9"
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let trusted = ["10.0.0.0/8", "127.0.0.1"];
        // The client's own X-Forwarded-For comes first; each proxy appends what it saw.
        assert_eq!(
            client(
                "127.0.0.1",
                &["6.6.6.6, 198.51.100.7", "10.1.2.3"],
                &trusted
            ),
            "198.51.100.7"
        );
        assert_eq!(client("127.0.0.1", &[], &trusted), "127.0.0.1");
        assert_eq!(client("127.0.0.1", &["10.0.0.5"], &trusted), "10.0.0.5");
        assert_eq!(
            client("127.0.0.1", &["6.6.6.6, junk, 10.0.0.5"], &trusted),
            "10.0.0.5"
        );
    }

    #[test]
    fn ipv4_mapped_ipv6_peers_are_their_ipv4_address() {
        assert_eq!(
            client("::ffff:127.0.0.1", &["198.51.100.7"], &["127.0.0.1"]),
            "198.51.100.7"
        );
    }
}
