import ArgumentParser
import NetStoreClient
import NetStoreCore

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage accounts.",
        subcommands: [Add.self, Passwd.self, ListUsers.self, RemoveUser.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account (admins only).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The new user's name.") var name: String
        @Flag(help: "Make the account an admin.") var admin = false
        @Option(help: "Read the password from the first line of this file instead of asking twice.")
        var passwordFile: String?

        func run() async throws {
            try NameRules.validateUserName(name)
            let password = try passwordFile.map(Terminal.readPasswordFile) ?? Terminal.readNewPassword(for: name)
            try NameRules.validatePassword(password)
            let user = try await withClient(global) { client throws(NetStoreError) in
                try await client.addUser(name: name, password: password, role: admin ? .admin : .user)
            }
            Terminal.printError("created \(user.role.name) \(user.name)")
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a password: your own (the old one is asked), or anyone's as an admin.")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The account (default: yours).") var name: String?
        @Option(help: "Read the new password from the first line of this file.") var passwordFile: String?
        @Option(help: "Read your current password from the first line of this file.") var oldPasswordFile: String?

        func run() async throws {
            try await withClient(global) { client throws(NetStoreError) in
                let session = try await client.requireSession()
                let target = name ?? session.user.name
                var oldPassword = ""
                if target == session.user.name {
                    if let oldPasswordFile {
                        oldPassword = try Terminal.readPasswordFile(oldPasswordFile)
                    } else {
                        oldPassword = try Terminal.readPassword(prompt: "Current password for \(target): ")
                    }
                }
                let newPassword: String
                if let passwordFile {
                    newPassword = try Terminal.readPasswordFile(passwordFile)
                } else {
                    newPassword = try Terminal.readNewPassword(for: target)
                }
                try NameRules.validatePassword(newPassword)
                try await client.setPassword(user: target, oldPassword: oldPassword, newPassword: newPassword)
                Terminal.printError("changed the password of \(target)")
            }
        }
    }

    struct ListUsers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List accounts.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let users = try await withClient(global) { client throws(NetStoreError) in try await client.listUsers() }
            let width = max(4, users.map(\.name.count).max() ?? 0)
            print("\(pad("NAME", width))  ROLE   ROOT  CREATED")
            for user in users.sorted(by: { $0.name < $1.name }) {
                print("\(pad(user.name, width))  \(pad(user.role.name, 5))  \(user.rootNode)  "
                    + Formatting.fullTime(nanoseconds: user.createdNs))
            }
        }

        private func pad(_ text: String, _ width: Int) -> String {
            text + String(repeating: " ", count: max(0, width - text.count))
        }
    }

    struct RemoveUser: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "remove", abstract: "Delete an account (admins only).")

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The account to delete.") var name: String

        func run() async throws {
            try await withClient(global) { client throws(NetStoreError) in try await client.removeUser(name: name) }
            Terminal.printError("removed \(name)")
        }
    }
}
