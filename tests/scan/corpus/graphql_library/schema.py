"""graphene schema: resolve_* arguments and Mutation.mutate arguments are client data; info.context is the caller."""

import graphene
from flask import Flask
from graphql_server.flask import GraphQLView
from sqlalchemy import text

from models import Book, Loan, Member, db

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql://library@localhost/library"
db.init_app(app)


class LoanType(graphene.ObjectType):
    id = graphene.Int()
    book_id = graphene.Int()
    renewals = graphene.Int()


class Query(graphene.ObjectType):
    loan = graphene.Field(LoanType, loan_id=graphene.Int(required=True))
    my_loan = graphene.Field(LoanType, loan_id=graphene.Int(required=True))
    books_by = graphene.List(graphene.String, author=graphene.String(required=True))

    def resolve_loan(self, info, loan_id):
        return Loan.query.get(loan_id)  # expect: PL105

    def resolve_my_loan(self, info, loan_id):
        return Loan.query.filter_by(id=loan_id, member_id=info.context.member.id).first()  # ok: PL105

    def resolve_books_by(self, info, author):
        rows = db.session.execute(text(f"SELECT title FROM books WHERE author = '{author}'"))  # expect: PL101
        return [row.title for row in rows]


class BorrowBook(graphene.Mutation):
    class Arguments:
        book_id = graphene.Int(required=True)

    loan = graphene.Field(LoanType)

    def mutate(self, info, book_id):
        book = Book.query.get(book_id)
        if book.copies_free < 1:
            raise ValueError("no copy left")
        book.copies_free = book.copies_free - 1  # expect: PL102
        loan = Loan(member_id=info.context.member.id, book_id=book.id)
        db.session.add(loan)
        db.session.commit()
        return BorrowBook(loan=loan)


class PayFine(graphene.Mutation):
    class Arguments:
        amount = graphene.Int(required=True)

    ok = graphene.Boolean()

    def mutate(self, info, amount):
        db.session.execute(  # ok: PL102
            db.update(Member).where(Member.id == info.context.member.id, Member.fine_credit >= amount)
            .values(fine_credit=Member.fine_credit - amount)
        )
        db.session.commit()
        return PayFine(ok=True)


class Mutation(graphene.ObjectType):
    borrow_book = BorrowBook.Field()
    pay_fine = PayFine.Field()


schema = graphene.Schema(query=Query, mutation=Mutation)
app.add_url_rule("/graphql", view_func=GraphQLView.as_view("graphql", schema=schema.graphql_schema))
