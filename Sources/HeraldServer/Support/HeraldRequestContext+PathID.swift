import Foundation
import Herald
import Hummingbird

extension HeraldRequestContext {
    /// The path parameter `name` (`{id}`, `{key}`) as the id it names: percent-decoded, once, after routing.
    ///
    /// Every route reads its path ids through this, so `/v1/subscribers/jos%C3%A9` names the subscriber `josé`
    /// and `/v1/subscribers/team%2Flead` names `team/lead` (the router split the path on its real slashes first,
    /// so an encoded one stays inside the id). A parameter that cannot be any Herald id (a broken `%` escape,
    /// bytes that are not UTF-8, a control character such as NUL) is a 422 naming it, whatever the method; an id
    /// that could exist but does not is the route's own 404.
    func pathID(_ name: String) throws -> String {
        let raw = try parameters.require(name)
        guard let decoded = raw.removingPercentEncoding else {
            throw HeraldError.invalid(name, "is not a valid percent-encoded UTF-8 path segment")
        }
        guard !decoded.isEmpty, !decoded.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            throw HeraldError.invalid(name, "must be 1 or more characters with no control characters")
        }
        return decoded
    }
}
