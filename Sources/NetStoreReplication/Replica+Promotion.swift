// Promotion: `netstore promote` asks a backup to become primary under a higher
// term. It asks the others first (a pre-vote, which changes nothing), then for
// their votes (Raft's election, started by hand). A replica votes once per term
// and only for a candidate whose log holds everything its own does, so a
// promoted replica has every entry a majority made durable, and no term has two
// primaries. Automatic election would start the same thing from a timer.

struct Promotion: Sendable {
    var preVote: Bool
    /// The term the candidate asks for.
    var term: Term
    var startedAt: UInt64
    var granted: Set<ReplicaID>
    var refused: [ReplicaID: LogPosition] = [:]
}

extension Replica {
    /// What the candidate claims as its log: only what is durable here.
    var durableLast: LogPosition {
        LogPosition(index: durableIndex, term: log.term(at: durableIndex)!)
    }

    mutating func startPromotion() {
        let refusal: String? = switch role {
        case .primary: "\(id) is already the primary (term \(term.rawValue))"
        case .candidate: "a promotion of \(id) is already under way"
        case .backup: promotion != nil ? "a promotion of \(id) is already under way"
            : installingSnapshot != nil ? "\(id) is installing a snapshot; retry when it has caught up" : nil
        }
        if let refusal {
            actions.append(.promotionFinished(.refused(reason: refusal)))
            return
        }
        promotion = Promotion(preVote: true, term: term.next, startedAt: now, granted: [id])
        askForVotes()
    }

    private mutating func askForVotes() {
        guard let promotion else { return }
        if promotion.granted.count >= configuration.majority {
            won()
            return
        }
        let request = VoteRequest(term: promotion.term, last: durableLast, preVote: promotion.preVote)
        for peer in configuration.replicas where peer != id { send(to: peer, .voteRequest(request)) }
    }

    private mutating func won() {
        guard let current = promotion else { return }
        if current.preVote {
            // Now for real: take the term, vote for itself, ask again.
            hardState = HardState(term: current.term, votedFor: id)
            actions.append(.persistHardState(hardState))
            primaryMatch = .zero
            role = .candidate
            actions.append(.roleChanged(.candidate, term: term))
            promotion = Promotion(preVote: false, term: current.term, startedAt: now, granted: [id])
            askForVotes()
        } else {
            promotion = nil
            becomePrimary()
            actions.append(.promotionFinished(.promoted(term: term)))
        }
    }

    mutating func receiveVoteRequest(from candidate: ReplicaID, _ request: VoteRequest) {
        let mine = log.last
        let upToDate = request.last.isAtLeastAsUpToDate(as: mine)
        let granted: Bool
        if request.preVote {
            granted = request.term > term && upToDate
        } else {
            // The term is the request's now (adopted on receipt).
            // One vote per term, none while a primary of this term is known.
            granted = knownPrimary == nil && upToDate && (hardState.votedFor == nil || hardState.votedFor == candidate)
            if granted, hardState.votedFor == nil {
                hardState.votedFor = candidate
                actions.append(.persistHardState(hardState))
            }
        }
        let term = granted ? request.term : term
        send(to: candidate, .voteResponse(VoteResponse(term: term, granted: granted, preVote: request.preVote, voterLast: mine)))
    }

    mutating func receiveVoteResponse(from voter: ReplicaID, _ response: VoteResponse) {
        guard var current = promotion, response.preVote == current.preVote else { return }
        if response.granted {
            guard response.term == current.term else { return }
            current.granted.insert(voter)
            current.refused[voter] = nil
        } else if !current.granted.contains(voter) {
            current.refused[voter] = response.voterLast
        }
        promotion = current
        if current.granted.count >= configuration.majority {
            won()
        } else if current.refused.count > configuration.replicas.count - configuration.majority {
            refusePromotion()
        }
    }

    mutating func tickPromotion() {
        guard let current = promotion, now - current.startedAt >= UInt64(configuration.promotionTimeoutTicks) else { return }
        refusePromotion()
    }

    /// Gives up, naming a replica that is ahead if one refused for that reason.
    private mutating func refusePromotion() {
        guard let current = promotion else { return }
        promotion = nil
        let mine = durableLast
        let reason: String
        var furtherAhead: ReplicaID?
        if let (ahead, last) = current.refused.filter({ !mine.isAtLeastAsUpToDate(as: $0.value) }).min(by: { $0.key < $1.key }) {
            reason = "\(ahead) holds entries \(id) lacks (its log ends at \(last), this one's durable log at \(mine)): promote \(ahead), or retry once \(id) has caught up"
            furtherAhead = ahead
        } else {
            let agreed = current.granted.sorted().map(\.description).joined(separator: ", ")
            reason = "only \(current.granted.count) of \(configuration.replicas.count) replicas agreed (\(agreed)); a majority is \(configuration.majority): start the others or check the network"
        }
        if role == .candidate {
            // The term is taken; the cluster has no primary in it until the next promotion.
            role = .backup(primary: nil)
            actions.append(.roleChanged(role, term: term))
        }
        actions.append(.promotionFinished(.refused(reason: reason, ahead: furtherAhead)))
    }
}
