"""An ariadne resolver for the renewal mutation: `obj, info, **arguments`, the caller in info.context."""

from ariadne import MutationType

from models import Loan, db

mutation = MutationType()


@mutation.field("renewLoan")
def resolve_renew_loan(obj, info, loanId):
    loan = Loan.query.get(loanId)  # expect: PL105
    if loan.renewals >= 3:
        return False
    loan.renewals = loan.renewals + 1  # expect: PL102
    db.session.commit()
    return True


@mutation.field("returnLoan")
def resolve_return_loan(obj, info, loanId):
    loan = Loan.query.filter_by(id=loanId, member_id=info.context["member_id"]).first_or_404()  # ok: PL105
    db.session.delete(loan)
    db.session.commit()
    return True
