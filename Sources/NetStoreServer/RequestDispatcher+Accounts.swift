import NetStoreCore
import NetStoreProtocol

extension RequestDispatcher {
    func respondAccounts(to request: Request, user: UserInfo) async throws -> Response {
        let accounts = self.accounts
        switch request {
        case let .userAdd(name, password, role):
            try requireAdmin(user, to: "add users")
            let added = try await accounts.addUser(name: name, password: password, role: role)
            logger.info("user added", metadata: ["user": "\(name)", "role": "\(role.name)", "by": "\(user.name)"])
            return .user(added)
        case let .userPasswd(name, oldPassword, newPassword):
            if user.role != .admin || name == user.name {
                // Changing one's own password needs the old one, even for an admin.
                guard name == user.name else {
                    throw NetStoreError(.accessDenied, "only an admin may change another user's password")
                }
                let ok = try await storage { try accounts.checkPassword(name: name, password: oldPassword) }
                guard ok else { throw NetStoreError(.badCredentials, "the current password is wrong") }
            }
            try await accounts.setPassword(name: name, newPassword: newPassword)
            logger.info("password changed", metadata: ["user": "\(name)", "by": "\(user.name)"])
            return .empty
        case .userList:
            try requireAdmin(user, to: "list users")
            return .users(try await storage { try accounts.listUsers() })
        case let .userRemove(name):
            try requireAdmin(user, to: "remove users")
            try await accounts.removeUser(name: name)
            logger.info("user removed", metadata: ["user": "\(name)", "by": "\(user.name)"])
            return .empty
        default:
            preconditionFailure("not an account request: \(request.opcode)")
        }
    }

    private func requireAdmin(_ user: UserInfo, to action: String) throws {
        guard user.role == .admin else {
            throw NetStoreError(.accessDenied, "only an admin may \(action); '\(user.name)' is not an admin")
        }
    }
}
